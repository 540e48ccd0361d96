//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// webDriver is a session of Debian's chromedriver, spoken to in the W3C WebDriver protocol.
type webDriver struct {
	base, session string
}

// elementKey is the W3C name of an element reference in a WebDriver answer.
const elementKey = "element-6066-11e4-a52e-4f735466cecf"

func (d *webDriver) call(t *testing.T, method, path string, body any) json.RawMessage {
	t.Helper()
	var in io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		in = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, d.base+path, in)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("chromedriver %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("chromedriver %s %s: HTTP %d: %.500s", method, path, resp.StatusCode, b)
	}
	return out.Value
}

// elements returns the references of the elements matching a CSS selector (none is no error).
func (d *webDriver) elements(t *testing.T, css string) []string {
	t.Helper()
	var els []map[string]string
	_ = json.Unmarshal(d.call(t, "POST", "/session/"+d.session+"/elements", map[string]string{"using": "css selector", "value": css}), &els)
	var ids []string
	for _, e := range els {
		ids = append(ids, e[elementKey])
	}
	return ids
}

// waitElement waits until an element matches css and returns it.
func (d *webDriver) waitElement(t *testing.T, css string) string {
	t.Helper()
	var id string
	if err := poll(time.Minute, func() (bool, error) {
		if els := d.elements(t, css); len(els) > 0 {
			id = els[0]
		}
		return id != "", nil
	}); err != nil {
		t.Fatalf("no %q on %s: %s", css, d.url(t), d.text(t))
	}
	return id
}

func (d *webDriver) url(t *testing.T) string {
	t.Helper()
	var u string
	_ = json.Unmarshal(d.call(t, "GET", "/session/"+d.session+"/url", nil), &u)
	return u
}

// text is the page's visible text, the start of it.
func (d *webDriver) text(t *testing.T) string {
	t.Helper()
	body := d.elements(t, "body")
	if len(body) == 0 {
		return ""
	}
	var s string
	_ = json.Unmarshal(d.call(t, "GET", "/session/"+d.session+"/element/"+body[0]+"/text", nil), &s)
	return s[:min(len(s), 500)]
}

// startBrowser starts headless Chromium through chromedriver (Debian's, installed by
// hack/airflow/browser.sh when missing, with NSS's certutil), trusting only the kind cluster's test CA:
// it is the one authority in the NSS database of the browser's own HOME. uiHost resolves to a loopback
// address whose port 443 forwards to Traefik's websecure NodePort, as a load balancer would.
func startBrowser(t *testing.T) (*webDriver, func()) {
	t.Helper()
	if out, err := exec.Command(filepath.Join(repoRoot, "hack", "airflow", "browser.sh")).CombinedOutput(); err != nil {
		t.Fatalf("hack/airflow/browser.sh: %v\n%s", err, out)
	}
	home := t.TempDir()
	nss := "sql:" + filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(filepath.Join(home, ".pki", "nssdb"), 0o700); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(filepath.Dir(nasDir(t)), "tls", "ca.crt")
	for _, args := range [][]string{{"-N", "-d", nss, "--empty-password"}, {"-A", "-d", nss, "-n", "airkube kind test CA", "-t", "C,,", "-i", ca}} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}

	// 127.0.0.2:443 forwards to Traefik, so that https://uiHost/ (port 443, as baseURL says) reaches it.
	target := net.JoinHostPort(controlPlaneIP(t), "30443")
	ln, err := net.Listen("tcp", "127.0.0.2:443")
	if err != nil {
		t.Fatalf("the browser's forward to Traefik: %v", err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.DialTimeout("tcp", target, 5*time.Second)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c) }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()

	port := freePort(t)
	driver := exec.Command("chromedriver", fmt.Sprintf("--port=%d", port))
	driver.Env = append(os.Environ(), "HOME="+home)
	var log bytes.Buffer
	driver.Stdout, driver.Stderr = &log, &log
	if err := driver.Start(); err != nil {
		t.Fatal(err)
	}
	d := &webDriver{base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	// stop ends the session, chromedriver and the forward; the next browser may take the same address.
	var once sync.Once
	stop := func() {
		once.Do(func() {
			if d.session != "" {
				req, _ := http.NewRequest("DELETE", d.base+"/session/"+d.session, nil)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
			_ = driver.Process.Kill()
			_, _ = driver.Process.Wait()
			ln.Close()
		})
	}
	t.Cleanup(stop)
	if err := poll(30*time.Second, func() (bool, error) {
		resp, err := http.Get(d.base + "/status")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil, nil
	}); err != nil {
		t.Fatalf("chromedriver did not start: %s", log.String())
	}
	var s struct {
		SessionID string `json:"sessionId"`
	}
	_ = json.Unmarshal(d.call(t, "POST", "/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome", "acceptInsecureCerts": false,
		"goog:chromeOptions": map[string]any{"binary": "/usr/bin/chromium", "args": []string{
			"--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,900",
			"--no-proxy-server", "--disable-background-networking", "--disable-component-update", "--lang=en-US",
			"--host-resolver-rules=MAP " + uiHost + " 127.0.0.2"}},
	}}}), &s)
	if s.SessionID == "" {
		t.Fatalf("chromedriver gave no session: %s", log.String())
	}
	d.session = s.SessionID
	return d, stop
}

// browserLogin opens https://uiHost/weather/dags in headless Chromium, signs in through the login form
// the UI sends it to, and waits for the DAG list with the airkube_e2e_groups DAG. It returns the time
// from opening the page to the list.
func browserLogin(t *testing.T, what, password string) time.Duration {
	t.Helper()
	d, stop := startBrowser(t)
	defer stop()
	start := time.Now()
	d.call(t, "POST", "/session/"+d.session+"/url", map[string]string{"url": "https://" + uiHost + "/weather/dags"})
	user := d.waitElement(t, "input[name=username]")
	if u := d.url(t); !strings.Contains(u, "/weather/auth/login") {
		t.Errorf("through %s, /weather/dags sent the browser to %s, want the login form under /weather", what, u)
	}
	d.call(t, "POST", "/session/"+d.session+"/element/"+user+"/value", map[string]string{"text": "admin"})
	pw := d.waitElement(t, "input[name=password]")
	d.call(t, "POST", "/session/"+d.session+"/element/"+pw+"/value", map[string]string{"text": password})
	d.call(t, "POST", "/session/"+d.session+"/element/"+d.waitElement(t, "form button[type=submit]")+"/click", map[string]string{})
	d.waitElement(t, `a[href$="/dags/airkube_e2e_groups"]`)
	took := time.Since(start)
	if u := d.url(t); !strings.HasPrefix(u, "https://"+uiHost+"/weather/") {
		t.Errorf("after the login through %s the browser is at %s, want under https://%s/weather/", what, u, uiHost)
	}
	return took
}

// freePort is a TCP port on loopback that nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
