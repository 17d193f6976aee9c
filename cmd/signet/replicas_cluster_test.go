package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The pieces of the replicas test: the signet binary run as separate
// processes, a round-robin HTTP proxy in front of them, a TCP proxy that
// can cut the database away, and PgBouncer.

// buildSignet compiles the signet binary into a temporary directory, with
// extra `go build` arguments (-ldflags) when given. Its
// name is not "signet", so a `pkill -x signet` elsewhere on a shared
// machine does not stop these replicas in the middle of a scenario.
func buildSignet(t *testing.T, buildArgs ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "signet-replicas")
	cmd := exec.Command("go", append(append([]string{"build"}, buildArgs...), "-o", bin, ".")...)
	cmd.Env = os.Environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	// The kernel may hand a port just closed out again at once (one
	// replica's public and admin listeners got the same port): never give
	// out an address twice in this process.
	handedOutMu.Lock()
	defer handedOutMu.Unlock()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		if !handedOut[addr] {
			handedOut[addr] = true
			return addr
		}
	}
	t.Fatal("no free address found that was not handed out before")
	return ""
}

var (
	handedOutMu sync.Mutex
	handedOut   = map[string]bool{}
)

// cleanEnv is this process's environment without SIGNET_* variables, so
// only what a test sets configures the processes it starts.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SIGNET_") {
			env = append(env, kv)
		}
	}
	return env
}

// replica is one `signet serve` process. Its addresses stay the same
// across restarts.
type replica struct {
	t       *testing.T
	name    string
	bin     string
	env     []string
	listen  string
	admin   string
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	// ending is set when the test itself stops or kills the process;
	// any other exit is a crash, recorded in crashed.
	ending  bool
	crashed []string
}

func newReplica(t *testing.T, bin, name string, env map[string]string) *replica {
	r := &replica{t: t, name: name, bin: bin, listen: freeAddr(t), admin: freeAddr(t),
		logPath: filepath.Join(t.TempDir(), name+".log")}
	r.env = cleanEnv()
	for k, v := range env {
		r.env = append(r.env, k+"="+v)
	}
	r.env = append(r.env, "SIGNET_LISTEN="+r.listen, "SIGNET_ADMIN_LISTEN="+r.admin)
	t.Cleanup(r.stop)
	return r
}

// start runs the process; waitReady waits until it serves.
func (r *replica) start() {
	r.t.Helper()
	logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		r.t.Fatal(err)
	}
	fmt.Fprintf(logf, "=== start %s\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(r.bin, "serve")
	cmd.Env = r.env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		r.t.Fatalf("start %s: %v", r.name, err)
	}
	done := make(chan struct{})
	go func() {
		err := cmd.Wait()
		logf.Close()
		r.mu.Lock()
		if !r.ending {
			r.crashed = append(r.crashed, fmt.Sprintf("%s exited by itself: %v", r.name, err))
		}
		r.mu.Unlock()
		close(done)
	}()
	r.mu.Lock()
	r.cmd, r.done, r.ending = cmd, done, false
	r.mu.Unlock()
}

// crashes reports the exits the test did not cause.
func (r *replica) crashes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.crashed...)
}

func (r *replica) url() string { return "http://" + r.listen }

func (r *replica) adminURL() string { return "http://" + r.admin }

// waitReady polls /health/ready until it answers 200.
func (r *replica) waitReady(timeout time.Duration) {
	r.t.Helper()
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-done:
			r.t.Fatalf("%s exited before it was ready:\n%s", r.name, r.logTail(40))
		default:
		}
		resp, err := client.Get(r.url() + "/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("%s not ready within %s:\n%s", r.name, timeout, r.logTail(40))
}

// kill ends the process with SIGKILL and waits for it.
func (r *replica) kill() {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.ending = true
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// stop ends the process with SIGTERM and waits: it must be gone within
// its shutdown timeout (5 s) and a little, else it is killed.
func (r *replica) stop() {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	wasEnding := r.ending
	r.ending = true
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	if wasEnding {
		<-done
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		r.t.Errorf("%s did not stop within 10s of SIGTERM (shutdown timeout 5s)", r.name)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
}

// logTail returns the last n lines the process wrote.
func (r *replica) logTail(n int) string {
	return fileTail(r.logPath, n)
}

// logDigest summarizes the process's warnings and errors: how many of
// each message, and the last few error lines in full.
func (r *replica) logDigest(lastErrors int) string {
	b, err := os.ReadFile(r.logPath)
	if err != nil {
		return err.Error()
	}
	counts := map[string]int{}
	samples := map[string]string{}
	var order, errs []string
	for _, line := range strings.Split(string(b), "\n") {
		var e struct{ Level, Msg, Err string }
		if json.Unmarshal([]byte(line), &e) != nil {
			if strings.TrimSpace(line) != "" && !strings.HasPrefix(line, "=== start") {
				errs = append(errs, line) // not JSON: a panic or the runtime
			}
			continue
		}
		if e.Level != "WARN" && e.Level != "ERROR" {
			continue
		}
		key := e.Level + " " + e.Msg
		if counts[key] == 0 {
			order = append(order, key)
		}
		counts[key]++
		if samples[key] == "" {
			samples[key] = e.Err
		}
		if e.Level == "ERROR" && e.Err != "" {
			errs = append(errs, line)
		}
	}
	var out strings.Builder
	for _, k := range order {
		fmt.Fprintf(&out, "  %5d× %s", counts[k], k)
		if samples[k] != "" {
			fmt.Fprintf(&out, " (first: %.300s)", samples[k])
		}
		out.WriteString("\n")
	}
	if len(errs) > lastErrors {
		errs = errs[len(errs)-lastErrors:]
	}
	for _, l := range errs {
		fmt.Fprintf(&out, "  | %.600s\n", l)
	}
	return out.String()
}

func fileTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// rrProxy is the load balancer in front of the replicas: each request
// goes to the next backend in turn. Like a real balancer's passive health
// check, a request whose connection is refused (nothing was sent) is
// tried on the next backend; a request that reached a backend is never
// sent twice, so the client sees what happened to it.
type rrProxy struct {
	srv      *httptest.Server
	backends atomic.Pointer[[]string]
	next     atomic.Uint64
	base     *http.Transport
	// hits counts requests per backend host, to show they spread.
	mu   sync.Mutex
	hits map[string]int
}

func newRRProxy(t *testing.T) *rrProxy {
	p := &rrProxy{hits: map[string]int{}, base: &http.Transport{
		DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		// A connection per request: a pooled connection to a replica
		// that was killed would fail the next request sent on it, which
		// says something about this proxy, not about Signet.
		DisableKeepAlives: true,
	}}
	rp := &httputil.ReverseProxy{
		Director: func(r *http.Request) {
			r.URL.Scheme = "http"
			r.URL.Host = "backend" // chosen per attempt by RoundTrip
		},
		Transport: p,
		ErrorLog:  nil,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "proxy: %v", err)
		},
	}
	p.srv = httptest.NewServer(rp)
	t.Cleanup(func() {
		p.srv.CloseClientConnections()
		p.srv.Close()
		p.base.CloseIdleConnections()
	})
	return p
}

func (p *rrProxy) URL() string { return p.srv.URL }

func (p *rrProxy) setBackends(hosts []string) { p.backends.Store(&hosts) }

// RoundTrip sends req to the next backend, moving on while connections
// are refused.
func (p *rrProxy) RoundTrip(req *http.Request) (*http.Response, error) {
	hosts := *p.backends.Load()
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	start := p.next.Add(1)
	var lastErr error
	for i := range hosts {
		host := hosts[(start+uint64(i))%uint64(len(hosts))]
		out := req.Clone(req.Context())
		out.URL.Host = host
		out.Body = io.NopCloser(bytes.NewReader(body))
		if body == nil {
			out.Body = nil
		}
		resp, err := p.base.RoundTrip(out)
		if err == nil {
			p.mu.Lock()
			p.hits[host]++
			p.mu.Unlock()
			return resp, nil
		}
		lastErr = err
		var op *net.OpError
		if !(errors.As(err, &op) && op.Op == "dial") {
			return nil, err
		}
	}
	return nil, lastErr
}

func (p *rrProxy) hitCounts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.hits))
	for k, v := range p.hits {
		out[k] = v
	}
	return out
}

// tcpCut forwards TCP connections from a fixed loopback address to a
// target, and can be cut (every connection reset, new ones refused) and
// restored on the same address: a database that becomes unreachable and
// comes back, without stopping the shared PostgreSQL server.
type tcpCut struct {
	t      *testing.T
	addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

func newTCPCut(t *testing.T, target string) *tcpCut {
	t.Helper()
	c := &tcpCut{t: t, target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.addr = ln.Addr().String()
	c.serve(ln)
	t.Cleanup(c.cut)
	return c
}

func (c *tcpCut) serve(ln net.Listener) {
	c.mu.Lock()
	c.ln = ln
	c.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go c.forward(in)
		}
	}()
}

func (c *tcpCut) forward(in net.Conn) {
	out, err := net.DialTimeout("tcp", c.target, 2*time.Second)
	if err != nil {
		in.Close()
		return
	}
	c.mu.Lock()
	if c.ln == nil { // cut while dialling
		c.mu.Unlock()
		in.Close()
		out.Close()
		return
	}
	c.conns[in], c.conns[out] = struct{}{}, struct{}{}
	c.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}
	go pipe(out, in)
	go pipe(in, out)
	wg.Wait()
	in.Close()
	out.Close()
	c.mu.Lock()
	delete(c.conns, in)
	delete(c.conns, out)
	c.mu.Unlock()
}

// cut resets every forwarded connection and refuses new ones.
func (c *tcpCut) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ln != nil {
		c.ln.Close()
		c.ln = nil
	}
	for conn := range c.conns {
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, as a vanished host or a killed server
		}
		conn.Close()
		delete(c.conns, conn)
	}
}

// restore listens on the same address again.
func (c *tcpCut) restore() {
	c.t.Helper()
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", c.addr); err == nil {
			c.serve(ln)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("restore %s: %v", c.addr, err)
}

// withHost returns the database URL u pointing at addr (and database db
// when not empty).
func withHost(t *testing.T, u, addr, db string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	p.Host = addr
	if db != "" {
		p.Path = "/" + db
	}
	return p.String()
}

// pgBouncerPath is Debian's pgbouncer.
const pgBouncerPath = "/usr/sbin/pgbouncer"

// startPgBouncer runs PgBouncer in transaction pooling mode in front of
// the database of dbURL, reached at upstream (host:port), and returns the
// URL replicas use.
func startPgBouncer(t *testing.T, dbURL, upstream string) string {
	t.Helper()
	if _, err := os.Stat(pgBouncerPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PgBouncer is required under CI but not found at %s (apt-get install pgbouncer): %v", pgBouncerPath, err)
		}
		t.Skipf("PgBouncer not found at %s (apt-get install pgbouncer): %v", pgBouncerPath, err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	userName := u.User.Username()
	password, _ := u.User.Password()
	upHost, upPort, err := net.SplitHostPort(upstream)
	if err != nil {
		t.Fatal(err)
	}
	listen := freeAddr(t)
	_, port, _ := net.SplitHostPort(listen)

	// PgBouncer will not run as root: it then switches to the postgres
	// user (or nobody), which must be able to read its files.
	dir, err := os.MkdirTemp("", "signet-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var args []string
	if os.Geteuid() == 0 {
		runAs := "nobody"
		if _, err := user.Lookup("postgres"); err == nil {
			runAs = "postgres"
		}
		args = append(args, "-u", runAs)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conn := fmt.Sprintf("host=%s port=%s dbname=%s user=%s", upHost, upPort, dbName, userName)
	if password != "" {
		conn += " password=" + password
	}
	ini := fmt.Sprintf(`[databases]
%s = %s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %s
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 20
; Come back quickly once the database answers again, and do not keep a
; client waiting for a server connection longer than a request may take.
server_login_retry = 1
query_wait_timeout = 5
`, dbName, conn, port, filepath.Join(dir, "users.txt"))
	files := map[string]string{
		"pgbouncer.ini": ini,
		"users.txt":     fmt.Sprintf("%q %q\n", userName, password),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	logPath := filepath.Join(dir, "pgbouncer.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pgBouncerPath, append(args, filepath.Join(dir, "pgbouncer.ini"))...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pgbouncer: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("pgbouncer log:\n%s", fileTail(logPath, 30))
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", listen, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("pgbouncer exited:\n%s", fileTail(logPath, 30))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgbouncer does not listen on %s:\n%s", listen, fileTail(logPath, 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return withHost(t, dbURL, listen, dbName)
}

// grepLog counts the lines of path containing s.
func grepLog(path, s string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			n++
		}
	}
	return n
}

// runCmd runs the signet binary once with env and fails the test when it
// does.
func runSignet(t *testing.T, ctx context.Context, bin string, env map[string]string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = cleanEnv()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("signet %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
