package statuslist

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"time"

	"github.com/ecert/ecert/internal/cbor"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/cose"
)

// MediaType is the content type of a status list token, also its COSE typ.
const MediaType = "application/statuslist+cwt"

const (
	// DefaultTTL is how long a verifier may use a token before fetching it
	// again (the ttl claim) when the publisher is not told otherwise.
	DefaultTTL = 6 * time.Hour
	// MaxAge is the oldest token Status answers from: a verifier never
	// says VALID from a list issued more than MaxAge ago.
	MaxAge = 24 * time.Hour
	// ClockSkew is how far in the future a token's iat may lie.
	ClockSkew = 5 * time.Minute
	// MaxTokenSize bounds the token Parse reads: a list of MaxSize entries
	// that does not compress at all, and room for the rest.
	MaxTokenSize = MaxSize*Bits/8 + 64<<10
)

// CWT claim keys (RFC 8392, draft-ietf-oauth-status-list).
const (
	claimSub        = 2
	claimExp        = 4
	claimIat        = 6
	claimStatusList = 65533
	claimTTL        = 65534
)

var (
	// ErrMalformed: the token is not a status list token of the accepted
	// shape (after its signature verified, or before: see the wrapped error).
	ErrMalformed = errors.New("statuslist: malformed status list token")
	// ErrStale: the token is too old to answer from (issued more than
	// MaxAge ago, or past its exp), or issued in the future. The verifier
	// must fetch a fresh list; it must not answer VALID.
	ErrStale = errors.New("statuslist: status list is stale")
)

// Token is a status list token: the list, the URI it is published at
// (sub), and its times.
type Token struct {
	Subject   string
	IssuedAt  time.Time
	ExpiresAt time.Time
	TTL       time.Duration
	List      *List
}

// Sign returns the token as a CWT: a COSE_Sign1 (SM2 with SM3) whose
// protected header is {1: alg, 4: kid, 16: MediaType} and whose payload is
// the claims {2: sub, 6: iat, 4: exp, 65534: ttl, 65533: {"bits": 2,
// "lst": zlib bytes}}. Times are whole seconds.
func (t Token) Sign(ctx context.Context, s signing.Signer, kid []byte) ([]byte, error) {
	if t.List == nil || t.Subject == "" || t.IssuedAt.IsZero() || !t.ExpiresAt.After(t.IssuedAt) || t.TTL < time.Second {
		return nil, fmt.Errorf("statuslist: token needs a list, a subject, iat < exp and a ttl of at least 1 s")
	}
	lst, err := t.List.Compress()
	if err != nil {
		return nil, fmt.Errorf("statuslist: compress: %w", err)
	}
	payload, err := cbor.Marshal(cbor.Map(
		cbor.Pair{Key: cbor.Int(claimSub), Val: cbor.Text(t.Subject)},
		cbor.Pair{Key: cbor.Int(claimIat), Val: cbor.Int(t.IssuedAt.Unix())},
		cbor.Pair{Key: cbor.Int(claimExp), Val: cbor.Int(t.ExpiresAt.Unix())},
		cbor.Pair{Key: cbor.Int(claimTTL), Val: cbor.Int(int64(t.TTL / time.Second))},
		cbor.Pair{Key: cbor.Int(claimStatusList), Val: cbor.Map(
			cbor.Pair{Key: cbor.Text("bits"), Val: cbor.Int(Bits)},
			cbor.Pair{Key: cbor.Text("lst"), Val: cbor.Bytes(lst)},
		)},
	))
	if err != nil {
		return nil, fmt.Errorf("statuslist: claims: %w", err)
	}
	msg, err := cose.Sign1Typed(ctx, s, kid, MediaType, payload)
	if err != nil {
		return nil, fmt.Errorf("statuslist: sign %s: %w", t.Subject, err)
	}
	return msg, nil
}

// Parse verifies a status list token with the issuer key that key returns
// for its kid and returns its claims and list. It refuses tokens larger
// than MaxTokenSize, any shape Sign does not make, a bits other than 2, and
// a list that inflates beyond MaxSize entries. It does not judge the times:
// Status does, at each lookup.
func Parse(data []byte, key func(kid []byte) (*ecdsa.PublicKey, error)) (*Token, error) {
	if len(data) > MaxTokenSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(data), MaxTokenSize)
	}
	payload, _, err := cose.Verify1Typed(data, MediaType, key)
	if err != nil {
		return nil, fmt.Errorf("statuslist: %w", err)
	}
	claims, err := cbor.Unmarshal(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	if _, ok := claims.Pairs(); !ok {
		return nil, fmt.Errorf("%w: claims are not a map", ErrMalformed)
	}
	t := &Token{}
	sub, ok := lookup(claims, cbor.Int(claimSub)).TextString()
	if !ok || sub == "" {
		return nil, fmt.Errorf("%w: no sub", ErrMalformed)
	}
	t.Subject = sub
	iat, ok1 := lookup(claims, cbor.Int(claimIat)).Int64()
	exp, ok2 := lookup(claims, cbor.Int(claimExp)).Int64()
	ttl, ok3 := lookup(claims, cbor.Int(claimTTL)).Int64()
	if !ok1 || !ok2 || !ok3 || iat <= 0 || exp <= iat || ttl <= 0 || ttl > int64(MaxAge/time.Second) {
		return nil, fmt.Errorf("%w: iat, exp and ttl must be positive integers with iat < exp and ttl <= %s", ErrMalformed, MaxAge)
	}
	t.IssuedAt, t.ExpiresAt, t.TTL = time.Unix(iat, 0).UTC(), time.Unix(exp, 0).UTC(), time.Duration(ttl)*time.Second
	sl := lookup(claims, cbor.Int(claimStatusList))
	if _, ok := sl.Pairs(); !ok {
		return nil, fmt.Errorf("%w: no status_list", ErrMalformed)
	}
	if bits, ok := lookup(sl, cbor.Text("bits")).Int64(); !ok || bits != Bits {
		return nil, fmt.Errorf("%w: bits must be %d", ErrMalformed, Bits)
	}
	lst, ok := lookup(sl, cbor.Text("lst")).ByteString()
	if !ok {
		return nil, fmt.Errorf("%w: no lst", ErrMalformed)
	}
	if t.List, err = Decompress(lst, MaxSize); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return t, nil
}

// lookup returns the value of key in map m, or the zero (invalid) Value,
// whose accessors all report false.
func lookup(m cbor.Value, key cbor.Value) cbor.Value {
	v, _ := m.Lookup(key)
	return v
}

// Status returns entry idx as of now. It refuses with ErrStale a token
// issued more than MaxAge before now, past its exp, or issued more than
// ClockSkew after now: the caller must not then say the certificate is
// valid. An index outside the list is ErrIndex.
func (t *Token) Status(idx int, now time.Time) (Status, error) {
	switch age := now.Sub(t.IssuedAt); {
	case age > MaxAge:
		return 0, fmt.Errorf("%w: %s issued %s ago (at most %s)", ErrStale, t.Subject, age.Truncate(time.Second), MaxAge)
	case now.After(t.ExpiresAt):
		return 0, fmt.Errorf("%w: %s expired at %s", ErrStale, t.Subject, t.ExpiresAt.Format(time.RFC3339))
	case age < -ClockSkew:
		return 0, fmt.Errorf("%w: %s issued at %s, in the future", ErrStale, t.Subject, t.IssuedAt.Format(time.RFC3339))
	}
	return t.List.Get(idx)
}
