// Package testsvc runs private, throwaway Redis and MinIO server processes
// for fault tests that must stop, freeze and restart "their" server without
// disturbing the shared test servers. Each server listens on a free loopback
// port, keeps its data in a test temporary directory, and is killed when the
// test ends. Binaries come from internal/testenv (RedisBinary, MinIOBinary).
package testsvc

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// proc is one server process that can be stopped and started again on the
// same port with the same data directory.
type proc struct {
	t     testing.TB
	name  string
	argv  []string
	env   []string
	log   string
	cmd   *exec.Cmd
	ready func() error
}

func (p *proc) start() {
	p.t.Helper()
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		p.t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("testsvc: start %s: %v", p.name, err)
	}
	p.cmd = cmd
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := p.ready()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			p.kill()
			log, _ := os.ReadFile(p.log)
			p.t.Fatalf("testsvc: %s not ready after 30s: %v\n%s", p.name, err, tail(string(log), 2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill stops the process with SIGKILL (no chance to flush or clean up) and
// reaps it. Only the process this package started is signalled.
func (p *proc) kill() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGCONT) // a frozen process must run to die cleanly
	p.cmd.Process.Kill()
	p.cmd.Wait()
	p.cmd = nil
}

func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if p.cmd == nil {
		p.t.Fatalf("testsvc: %s is not running", p.name)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("testsvc: signal %s: %v", p.name, err)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Redis is a private redis-server.
type Redis struct {
	p    *proc
	addr string
}

// StartRedis starts redis-server (bin) on a free loopback port with an
// empty temporary directory and no persistence.
func StartRedis(t testing.TB, bin string) *Redis {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	r := &Redis{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	r.p = &proc{
		t: t, name: "redis-server " + r.addr, log: filepath.Join(dir, "log"),
		argv:  []string{bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no"},
		ready: func() error { return redisPing(r.addr) },
	}
	r.p.start()
	t.Cleanup(r.p.kill)
	return r
}

// Addr returns host:port.
func (r *Redis) Addr() string { return r.addr }

// Stop kills the server.
func (r *Redis) Stop() { r.p.kill() }

// Start starts the server again on the same port, waiting until it answers.
func (r *Redis) Start() { r.p.t.Helper(); r.p.start() }

// Freeze suspends the server (SIGSTOP): connections stay open but nothing
// answers, as with a hung server or a black-holed network.
func (r *Redis) Freeze() { r.p.t.Helper(); r.p.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (r *Redis) Thaw() { r.p.t.Helper(); r.p.signal(syscall.SIGCONT) }

// StartRedisCluster starts a Redis Cluster of n primaries (no replicas) on
// free loopback ports, with the 16384 hash slots split between them, and
// returns their addresses once the cluster reports state ok.
func StartRedisCluster(t testing.TB, bin string, n int) []string {
	t.Helper()
	addrs := make([]string, n)
	for i := range n {
		dir := t.TempDir()
		port := freePort(t)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		addrs[i] = addr
		p := &proc{
			t: t, name: "redis cluster node " + addr, log: filepath.Join(dir, "log"),
			argv: []string{bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
				"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"), "--cluster-node-timeout", "2000"},
			ready: func() error { return redisPing(addr) },
		}
		p.start()
		t.Cleanup(p.kill)
	}
	const slots = 16384
	for i, addr := range addrs {
		lo, hi := i*slots/n, (i+1)*slots/n-1
		if _, err := redisCmd(addr, fmt.Sprintf("CLUSTER ADDSLOTSRANGE %d %d", lo, hi)); err != nil {
			t.Fatalf("testsvc: cluster slots on %s: %v", addr, err)
		}
		if i > 0 {
			host, port, _ := net.SplitHostPort(addr)
			if _, err := redisCmd(addrs[0], "CLUSTER MEET "+host+" "+port); err != nil {
				t.Fatalf("testsvc: cluster meet %s: %v", addr, err)
			}
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range addrs {
		for {
			info, err := redisCmd(addr, "CLUSTER INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", n)) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("testsvc: cluster not ok on %s: %q %v", addr, info, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return addrs
}

// StartRedisSentinel starts a primary redis-server and one Sentinel
// monitoring it under masterName, and returns the Sentinel's address.
func StartRedisSentinel(t testing.TB, bin, masterName string) (sentinelAddr string, primary *Redis) {
	t.Helper()
	primary = StartRedis(t, bin)
	dir := t.TempDir()
	port := freePort(t)
	sentinelAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	host, mport, _ := net.SplitHostPort(primary.Addr())
	conf := filepath.Join(dir, "sentinel.conf")
	cfg := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s %s %s 1\nsentinel down-after-milliseconds %s 2000\n", port, dir, masterName, host, mport, masterName)
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &proc{
		t: t, name: "redis sentinel " + sentinelAddr, log: filepath.Join(dir, "log"),
		argv: []string{bin, conf, "--sentinel"},
		ready: func() error {
			reply, err := redisCmd(sentinelAddr, "SENTINEL GET-MASTER-ADDR-BY-NAME "+masterName)
			if err != nil {
				return err
			}
			if !strings.Contains(reply, mport) {
				return fmt.Errorf("sentinel does not know the master yet: %q", reply)
			}
			return nil
		},
	}
	p.start()
	t.Cleanup(p.kill)
	return sentinelAddr, primary
}

// redisCmd sends one inline command and returns the reply's text (status,
// error as an error, integer, bulk string, or the bulk strings of an array
// joined by spaces).
func redisCmd(addr, cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(c))
}

func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", fmt.Errorf("redis: %s", line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", err
		}
		parts := make([]string, 0, max(n, 0))
		for range n {
			s, err := readReply(r)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " "), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

func redisPing(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// MinIO is a private single-drive MinIO server.
type MinIO struct {
	p *proc
	// Endpoint is host:port; AccessKey and SecretKey the root credentials.
	Endpoint, AccessKey, SecretKey string
	// DataDir is the drive directory: objects live under DataDir/<bucket>/<key>/.
	DataDir string
}

// StartMinIO starts a MinIO server (bin) on a free loopback port with an
// empty temporary drive.
func StartMinIO(t testing.TB, bin string) *MinIO {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	m := &MinIO{
		Endpoint:  net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		AccessKey: "ecert-fault", SecretKey: "ecert-fault-secret",
		DataDir: filepath.Join(dir, "data"),
	}
	client := &http.Client{Timeout: time.Second}
	m.p = &proc{
		t: t, name: "minio " + m.Endpoint, log: filepath.Join(dir, "log"),
		argv: []string{bin, "server", m.DataDir, "--quiet", "--address", m.Endpoint},
		env:  []string{"MINIO_ROOT_USER=" + m.AccessKey, "MINIO_ROOT_PASSWORD=" + m.SecretKey, "MINIO_BROWSER=off", "MINIO_UPDATE=off"},
		ready: func() error {
			resp, err := client.Get("http://" + m.Endpoint + "/minio/health/ready")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("health: %s", resp.Status)
			}
			// The health check can pass before the S3 layer is up; an
			// anonymous ListBuckets answers 503 until it is (then 403).
			resp, err = client.Get("http://" + m.Endpoint + "/")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				return fmt.Errorf("S3 API: %s", resp.Status)
			}
			return nil
		},
	}
	m.p.start()
	t.Cleanup(m.p.kill)
	return m
}

// Kill stops the server with SIGKILL, as a crash or power loss would.
func (m *MinIO) Kill() { m.p.kill() }

// Start starts the server again on the same port and drive.
func (m *MinIO) Start() { m.p.t.Helper(); m.p.start() }
