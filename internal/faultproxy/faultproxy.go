// Package faultproxy is a TCP proxy for tests that cuts connections on
// purpose: after a random number of bytes or a random time, or all of them
// at once during a simulated outage. It listens on loopback only and must
// never be used outside tests.
package faultproxy

import (
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy forwards connections from Addr to a target address.
type Proxy struct {
	t      testing.TB
	target string
	ln     net.Listener

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	down    bool
	perRead float64       // chance that a read from the target is cut short
	maxLife time.Duration // 0: no timed cuts

	cuts, refused atomic.Int64
}

// Start listens on a free loopback port and forwards to target until the test ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.closeAll()
	})
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// CutRandomly makes new connections end abruptly at random moments: each
// read from the target (a database answers a request in one write, so
// usually one answer) is, with probability perRead, forwarded only up to a
// random byte before the connection is cut; and every connection is cut
// after a random time up to maxLife. Zero values turn that kind of cut off.
func (p *Proxy) CutRandomly(perRead float64, maxLife time.Duration) {
	p.mu.Lock()
	p.perRead, p.maxLife = perRead, maxLife
	p.mu.Unlock()
}

// SetDown(true) cuts every open connection and refuses new ones (accepts
// and closes them at once) until SetDown(false).
func (p *Proxy) SetDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
	if down {
		p.closeAll()
	}
}

// Cuts is how many connections the proxy cut; Refused how many it refused while down.
func (p *Proxy) Cuts() int64    { return p.cuts.Load() }
func (p *Proxy) Refused() int64 { return p.refused.Load() }

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *Proxy) serve(client net.Conn) {
	p.mu.Lock()
	down, perRead, maxLife := p.down, p.perRead, p.maxLife
	p.mu.Unlock()
	if down {
		p.refused.Add(1)
		abort(client)
		return
	}
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		abort(client)
		return
	}
	if !p.track(client, server) {
		abort(client)
		abort(server)
		return
	}
	defer p.untrack(client, server)
	var once sync.Once
	cut := func() {
		once.Do(func() {
			p.cuts.Add(1)
			abort(client)
			abort(server)
		})
	}
	if maxLife > 0 {
		tm := time.AfterFunc(rand.N(maxLife)+1, cut)
		defer tm.Stop()
	}
	go func() {
		_, _ = io.Copy(server, client)
		server.Close()
		client.Close()
	}()
	if forward(client, server, perRead) {
		cut()
	}
	client.Close()
	server.Close()
}

// forward copies src to dst until either ends, and reports true when it
// stopped in the middle of a read on purpose (with probability perRead per
// read, after a random part of it).
func forward(dst io.Writer, src io.Reader, perRead float64) bool {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if perRead > 0 && rand.Float64() < perRead {
				_, _ = dst.Write(buf[:rand.N(n)])
				return true
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return false
			}
		}
		if err != nil {
			return false
		}
	}
}

func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
	}
}

func (p *Proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		abort(c)
		delete(p.conns, c)
	}
}

// abort closes c with a reset rather than an orderly shutdown, as a dropped
// network path or a killed server looks to the peer.
func abort(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}
