package queue

import "testing"

func openMemory(t *testing.T, opts Options) func() Queue {
	q, err := NewMemory(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return func() Queue { return q }
}

func TestMemoryContract(t *testing.T) { runContract(t, openMemory) }
