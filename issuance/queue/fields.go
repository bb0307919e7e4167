package queue

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Stream entry fields. Jobs carry fieldCase and fieldPayload; dead letters
// carry all of them.
const (
	fieldID       = "id"
	fieldCase     = "case"
	fieldPayload  = "payload"
	fieldAttempts = "attempts"
	fieldReason   = "reason"
	fieldFailedAt = "failed_at"

	maxFields   = 16      // fields in one entry we decode
	maxIDLen    = 64      // a stream entry id: two uint64 and a dash fit in 41
	maxAttempts = 1 << 20 // a delivery count we believe
)

var errMalformed = errors.New("malformed queue entry")

// str returns a stream field value as a string. go-redis gives strings;
// Lua replies may also hold integers.
func str(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case int64:
		return strconv.FormatInt(v, 10), true
	}
	return "", false
}

// decodeJob builds a Job from a stream entry's fields. On error the Job
// still carries the id, the attempt and whatever case id could be read
// (cut to MaxCaseIDLen), so that the entry can be dead-lettered.
func decodeJob(id string, values map[string]any, attempt, maxPayload int) (Job, error) {
	job := Job{ID: id, Attempt: attempt}
	if id == "" || len(id) > maxIDLen {
		return job, fmt.Errorf("%w: entry id of %d bytes", errMalformed, len(id))
	}
	if len(values) > maxFields {
		return job, fmt.Errorf("%w: %d fields", errMalformed, len(values))
	}
	c, ok := str(values[fieldCase])
	if !ok {
		return job, fmt.Errorf("%w: no %q field", errMalformed, fieldCase)
	}
	job.CaseID = truncate(c, MaxCaseIDLen)
	if c == "" || len(c) > MaxCaseIDLen || !utf8.ValidString(c) {
		return job, fmt.Errorf("%w: case id must be 1..%d bytes of UTF-8", errMalformed, MaxCaseIDLen)
	}
	if v, present := values[fieldPayload]; present {
		p, ok := str(v)
		if !ok {
			return job, fmt.Errorf("%w: %q is not a string", errMalformed, fieldPayload)
		}
		if len(p) > maxPayload {
			return job, fmt.Errorf("%w: payload of %d bytes exceeds %d", errMalformed, len(p), maxPayload)
		}
		if p != "" {
			job.Payload = []byte(p)
		}
	}
	return job, nil
}

// decodeDeadLetter builds a DeadLetter from a dead-letter stream entry. The
// job's case id may be empty: malformed jobs are dead-lettered too.
func decodeDeadLetter(values map[string]any, maxPayload int) (DeadLetter, error) {
	var d DeadLetter
	if len(values) > maxFields {
		return d, fmt.Errorf("%w: %d fields", errMalformed, len(values))
	}
	id, ok := str(values[fieldID])
	if !ok || id == "" || len(id) > maxIDLen {
		return d, fmt.Errorf("%w: bad %q", errMalformed, fieldID)
	}
	c, ok := str(values[fieldCase])
	if !ok || len(c) > MaxCaseIDLen {
		return d, fmt.Errorf("%w: bad %q", errMalformed, fieldCase)
	}
	p, ok := str(values[fieldPayload])
	if !ok || len(p) > maxPayload {
		return d, fmt.Errorf("%w: bad %q", errMalformed, fieldPayload)
	}
	a, ok := str(values[fieldAttempts])
	n, err := strconv.Atoi(a)
	if !ok || err != nil || n < 0 || n > maxAttempts {
		return d, fmt.Errorf("%w: bad %q", errMalformed, fieldAttempts)
	}
	reason, ok := str(values[fieldReason])
	if !ok || len(reason) > 2*MaxReasonLen {
		return d, fmt.Errorf("%w: bad %q", errMalformed, fieldReason)
	}
	f, ok := str(values[fieldFailedAt])
	ms, err := strconv.ParseInt(f, 10, 64)
	if !ok || err != nil || ms < 0 || ms > 1<<50 {
		return d, fmt.Errorf("%w: bad %q", errMalformed, fieldFailedAt)
	}
	d.Job = Job{ID: id, CaseID: c, Attempt: n}
	if p != "" {
		d.Job.Payload = []byte(p)
	}
	d.Reason = reason
	d.FailedAt = time.UnixMilli(ms)
	return d, nil
}

// decodeReclaim reads the reply of reclaimScript:
// {next cursor, {{id, {field, value...}, delivery count, reason or nil}...}}.
func decodeReclaim(v any, maxPayload int) (string, []fetched, error) {
	top, ok := v.([]any)
	if !ok || len(top) != 2 {
		return "", nil, fmt.Errorf("%w: reclaim reply is not a pair", errMalformed)
	}
	next, ok := top[0].(string)
	if !ok || next == "" || len(next) > maxIDLen {
		return "", nil, fmt.Errorf("%w: reclaim cursor", errMalformed)
	}
	list, ok := top[1].([]any)
	if !ok {
		return "", nil, fmt.Errorf("%w: reclaim entries", errMalformed)
	}
	out := make([]fetched, 0, len(list))
	for _, e := range list {
		t, ok := e.([]any)
		if !ok || len(t) != 4 {
			return "", nil, fmt.Errorf("%w: reclaim entry", errMalformed)
		}
		id, ok := t[0].(string)
		if !ok || id == "" || len(id) > maxIDLen {
			return "", nil, fmt.Errorf("%w: reclaim entry id", errMalformed)
		}
		n, ok := t[2].(int64)
		if !ok || n < 0 || n > maxAttempts {
			return "", nil, fmt.Errorf("%w: delivery count of %s", errMalformed, id)
		}
		var f fetched
		flat, ok := t[1].([]any)
		if !ok || len(flat)%2 != 0 || len(flat) > 2*maxFields {
			f.job = Job{ID: id, Attempt: int(n)}
			f.malformed = fmt.Errorf("%w: fields are not name/value pairs", errMalformed)
		} else {
			values := make(map[string]any, len(flat)/2)
			for i := 0; i < len(flat); i += 2 {
				if k, ok := flat[i].(string); ok {
					values[k] = flat[i+1]
				}
			}
			f.job, f.malformed = decodeJob(id, values, int(n), maxPayload)
		}
		if r, ok := t[3].(string); ok {
			f.reason = truncate(r, MaxReasonLen)
		}
		out = append(out, f)
	}
	return next, out, nil
}
