package queue

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// splitFields turns fuzz bytes into stream field values: NUL separates
// values, and a value starting with '#' stands for an integer reply.
func splitFields(data []byte) []any {
	var out []any
	for _, p := range bytes.Split(data, []byte{0}) {
		if len(p) > 0 && p[0] == '#' {
			out = append(out, int64(len(p)))
			continue
		}
		out = append(out, string(p))
	}
	return out
}

func asMap(flat []any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(flat); i += 2 {
		if k, ok := flat[i].(string); ok {
			m[k] = flat[i+1]
		}
	}
	return m
}

// FuzzDecodeEntry feeds arbitrary field lists, as a hostile or corrupted
// Redis could return them, to the decoders of job entries, dead-letter
// entries and reclaim replies: they must never panic, and what they accept
// must respect the limits.
func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte("case\x00C-1\x00payload\x00hello"), []byte("1-0"), int64(1))
	f.Add([]byte("id\x001-0\x00case\x00C\x00payload\x00\x00attempts\x005\x00reason\x00boom\x00failed_at\x001700000000000"), []byte("0-0"), int64(6))
	f.Add([]byte("case\x00\xff\xfe\x00payload\x00#"), []byte(""), int64(-1))
	f.Add([]byte("attempts\x00-1\x00failed_at\x0099999999999999999999"), []byte("9-9"), int64(1<<40))
	const maxPayload = 64
	f.Fuzz(func(t *testing.T, data, id []byte, count int64) {
		flat := splitFields(data)
		values := asMap(flat)
		if job, err := decodeJob(string(id), values, 1, maxPayload); err == nil {
			if job.CaseID == "" || len(job.CaseID) > MaxCaseIDLen || !utf8.ValidString(job.CaseID) || len(job.Payload) > maxPayload || job.ID != string(id) {
				t.Fatalf("accepted job %+v", job)
			}
		} else if !strings.HasPrefix(err.Error(), "malformed queue entry") || len(job.CaseID) > MaxCaseIDLen {
			t.Fatalf("error %v, job %+v", err, job)
		}
		if d, err := decodeDeadLetter(values, maxPayload); err == nil {
			if d.Job.ID == "" || len(d.Job.CaseID) > MaxCaseIDLen || len(d.Job.Payload) > maxPayload || d.Job.Attempt < 0 || len(d.Reason) > 2*MaxReasonLen {
				t.Fatalf("accepted dead letter %+v", d)
			}
		}
		reply := []any{string(id), []any{[]any{string(id), flat, count, string(data)}}}
		next, got, err := decodeReclaim(reply, maxPayload)
		if err == nil {
			if next != string(id) || len(got) != 1 || int64(got[0].job.Attempt) != count || len(got[0].reason) > MaxReasonLen {
				t.Fatalf("reclaim decoded to %q %+v", next, got)
			}
			if got[0].malformed == nil && len(got[0].job.Payload) > maxPayload {
				t.Fatalf("accepted oversize payload")
			}
		}
		decodeReclaim(flat, maxPayload) // any shape at all
	})
}

func TestDecodeReclaimShapes(t *testing.T) {
	for _, v := range []any{nil, "x", []any{}, []any{"0-0"}, []any{"0-0", "x"}, []any{"0-0", []any{"x"}}, []any{"0-0", []any{[]any{"1-0", []any{}, "1", nil}}}} {
		if _, _, err := decodeReclaim(v, 10); err == nil {
			t.Errorf("decodeReclaim(%#v) accepted", v)
		}
	}
	next, got, err := decodeReclaim([]any{"5-0", []any{[]any{"1-0", []any{"case", "C", "payload", "p"}, int64(3), "last"}}}, 10)
	if err != nil || next != "5-0" || len(got) != 1 || got[0].job.CaseID != "C" || got[0].job.Attempt != 3 || got[0].reason != "last" || string(got[0].job.Payload) != "p" {
		t.Errorf("decodeReclaim = %q %+v %v", next, got, err)
	}
}
