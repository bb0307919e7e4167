package main

import (
	"bufio"
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecert/ecert/signing"
)

// `ecert serve` on the embedded defaults prints where to start, answers,
// and on SIGTERM lets a request under way finish before it exits 0.
func TestServeShutsDownGracefully(t *testing.T) {
	bin := buildBinary(t)
	c := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--workers", "1", "--expire-every", "0")
	c.Dir = t.TempDir()
	c.Env = append(os.Environ(), "ECERT_LOG_LEVEL=warn", "ECERT_DATA_DIR=", "ECERT_DATABASE=",
		signing.EnvPassphrase+"=", signing.EnvPassphraseFile+"=")
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	base := serveURL(t, stdout)
	if r, err := http.Get(base + "/healthz"); err != nil || r.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", r, err)
	}
	// A slow upload: the body arrives after the signal.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	done := make(chan *http.Response, 1)
	go func() {
		r, err := http.Post(base+"/api/v1/verify", mw.FormDataContentType(), pr)
		if err != nil {
			t.Logf("upload: %v", err)
		}
		done <- r
	}()
	fw, _ := mw.CreateFormFile("file", "x.pdf")
	fw.Write([]byte("%PDF-1.7\n"))
	time.Sleep(300 * time.Millisecond) // the request is under way
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	fw.Write([]byte("not really a PDF\n%%EOF\n"))
	mw.Close()
	pw.Close()
	r := <-done
	if r == nil || r.StatusCode >= 500 {
		t.Fatalf("the request under way at SIGTERM did not finish: %+v\n%s", r, stderr.String())
	}
	if err := c.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, stderr.String())
	}
}

var servingOn = regexp.MustCompile(`serving on (http://[0-9.:]+)`)

// serveURL reads serve's start-up text until it names its address.
func serveURL(t *testing.T, out io.Reader) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := servingOn.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case u := <-found:
		return strings.TrimRight(u, "/")
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not say where it serves within 60 s")
	}
	return ""
}
