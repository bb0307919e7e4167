package issuance

import (
	"sync"
	"time"

	"github.com/ecert/ecert/storage/registry"
)

// answersMax bounds the day's answers kept; past it the map starts again empty.
const answersMax = 100_000

// answers keeps, in this process, the copy each press of the day was
// answered with, so that the same press again costs no round trip to the
// shared cache. It is safe because the answer cannot change: the registry
// records one copy per certificate version, format, purpose and China day,
// and whether the certificate may still be re-stamped is checked (from the
// in-force rows) before an answer is looked up. The shared cache stays the
// record for other processes.
type answers struct {
	mu sync.Mutex
	m  map[string]answer
}

type answer struct {
	u   registry.UsageCopy
	exp time.Time
}

func newAnswers() *answers { return &answers{m: make(map[string]answer)} }

// get returns the copy kept under key, if it is still good at now.
func (a *answers) get(key string, now time.Time) (registry.UsageCopy, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	x, ok := a.m[key]
	if !ok || !now.Before(x.exp) {
		delete(a.m, key)
		return registry.UsageCopy{}, false
	}
	return x.u, true
}

// put keeps u under key until exp.
func (a *answers) put(key string, u registry.UsageCopy, exp time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.m) >= answersMax {
		clear(a.m)
	}
	a.m[key] = answer{u: u, exp: exp}
}
