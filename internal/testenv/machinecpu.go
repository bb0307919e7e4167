package testenv

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"time"
)

// MachineCPU returns the CPU time every process on the machine has used
// (user, nice, system, irq and softirq in /proc/stat; idle, I/O wait and
// time stolen by the hypervisor are left out), or 0 where /proc/stat is
// not available. A benchmark whose servers share the machine divides it by
// the work done: what one operation costs all processes together, which
// decides the rate when the machine is the bottleneck and drifts less than
// the rate itself.
func MachineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) < 8 || string(f[0]) != "cpu" {
			continue
		}
		var ticks int64
		for _, i := range []int{1, 2, 3, 6, 7} { // user nice system irq softirq
			n, err := strconv.ParseInt(string(f[i]), 10, 64)
			if err != nil {
				return 0
			}
			ticks += n
		}
		return time.Duration(ticks) * time.Second / clockTicks
	}
	return 0
}

// clockTicks is USER_HZ, the unit of /proc/stat: 100 on every Linux
// architecture Go supports.
const clockTicks = 100
