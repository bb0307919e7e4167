package api

import (
	"container/list"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// clientLimiter holds a token bucket per client IP in a bounded LRU table:
// beyond max clients the least recently seen is forgotten (it starts again
// with a full bucket, which is the cost of a bounded table).
type clientLimiter struct {
	mu      sync.Mutex
	perSec  rate.Limit
	burst   int
	max     int
	order   *list.List // front: most recently seen; values *clientEntry
	clients map[string]*list.Element
}

type clientEntry struct {
	ip  string
	lim *rate.Limiter
}

func newClientLimiter(rl RateLimit) *clientLimiter {
	return &clientLimiter{
		perSec: rate.Limit(rl.PerSecond), burst: rl.Burst, max: rl.MaxClients,
		order: list.New(), clients: map[string]*list.Element{},
	}
}

// reserveN takes n tokens (at most a full burst) for ip at now, or says
// how long until they are free.
func (l *clientLimiter) reserveN(ip string, now time.Time, n int) (ok bool, wait time.Duration) {
	n = max(1, min(n, l.burst))
	l.mu.Lock()
	defer l.mu.Unlock()
	el, found := l.clients[ip]
	if found {
		l.order.MoveToFront(el)
	} else {
		el = l.order.PushFront(&clientEntry{ip: ip, lim: rate.NewLimiter(l.perSec, l.burst)})
		l.clients[ip] = el
		for l.order.Len() > l.max {
			old := l.order.Back()
			l.order.Remove(old)
			delete(l.clients, old.Value.(*clientEntry).ip)
		}
	}
	lim := el.Value.(*clientEntry).lim
	if lim.AllowN(now, n) {
		return true, 0
	}
	r := lim.ReserveN(now, n)
	wait = r.DelayFrom(now)
	r.CancelAt(now)
	return false, wait
}

func (l *clientLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}

// rateLimit refuses a client over its rate with 429 and Retry-After.
func (s *Server) rateLimit(c *gin.Context) {
	if s.overRate(c, 1) {
		return
	}
	c.Next()
}

// overRate takes n tokens for the client, or answers 429 with Retry-After
// and reports true.
func (s *Server) overRate(c *gin.Context, n int) bool {
	ok, wait := s.limiter.reserveN(c.ClientIP(), s.cfg.Now(), n)
	if ok {
		return false
	}
	s.metrics.rateLimited.Inc()
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	fail(c, &apiError{status: http.StatusTooManyRequests, code: CodeRateLimited, detail: "too many requests from this client", retry: secs})
	return true
}
