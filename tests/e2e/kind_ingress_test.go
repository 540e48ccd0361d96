//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/airkube/airkube/generator/render"
)

// uiHost is the weather release's UI host on the kind cluster: Traefik's Gateway serves *.kind.test with a
// certificate from the cluster's own CA (hack/kind/up.sh), and so does the Ingress' Secret below.
const uiHost = "weather.kind.test"

// ingressOverlay puts the UI behind Traefik's Ingress at a base path, with TLS, and lets only Traefik's
// namespace reach the UI port.
const ingressOverlay = `
ui:
  baseURL: https://` + uiHost + `/weather
  ingress: {className: traefik, tlsSecret: weather-tls}
networkPolicy:
  uiFrom: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: traefik}}}]
`

// gatewayOverlay moves the same UI to an HTTPRoute on Traefik's Gateway.
const gatewayOverlay = `
ui:
  baseURL: https://` + uiHost + `/weather
  gateway: {name: airkube, namespace: traefik}
networkPolicy:
  uiFrom: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: traefik}}}]
`

// traefikClient is an HTTPS client that trusts only the kind cluster's test CA and connects to Traefik's
// websecure NodePort on the control-plane node for uiHost, as a browser resolving uiHost there would.
func traefikClient(t *testing.T) *http.Client {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(filepath.Dir(nasDir(t)), "tls", "ca.crt"))
	if err != nil {
		t.Fatalf("the kind cluster's test CA (hack/kind/up.sh): %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("no certificate in the test CA file")
	}
	ip := controlPlaneIP(t)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: uiHost},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, net.JoinHostPort(ip, "30443"))
		},
	}}
}

// controlPlaneIP is the control-plane node's address, where its NodePorts are reached from this machine.
func controlPlaneIP(t *testing.T) string {
	t.Helper()
	nodes, err := cluster.client.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{LabelSelector: "node-role.kubernetes.io/control-plane"})
	if err != nil || len(nodes.Items) == 0 {
		t.Fatalf("the control-plane node: %v", err)
	}
	for _, a := range nodes.Items[0].Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	t.Fatalf("the control-plane node has no InternalIP: %v", nodes.Items[0].Status.Addresses)
	return ""
}

// assertUIThrough logs in through Traefik (what) at https://uiHost/weather with the admin's password, lists
// the DAGs with the token and loads the UI's page there. Right after an upgrade Traefik may still send a
// request to a pod that is going away (502), so the whole sequence is tried until it works once. It
// returns the time that took.
func assertUIThrough(t *testing.T, what, password string) time.Duration {
	t.Helper()
	client := traefikClient(t)
	base := "https://" + uiHost + "/weather"
	get := func(req *http.Request, want int, contains string) error {
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want || !bytes.Contains(b, []byte(contains)) {
			return fmt.Errorf("%s %s: HTTP %d: %.300s", req.Method, req.URL.Path, resp.StatusCode, b)
		}
		return nil
	}
	start := time.Now()
	var last error
	if err := poll(3*time.Minute, func() (bool, error) {
		body, _ := json.Marshal(map[string]string{"username": "admin", "password": password})
		req, _ := http.NewRequest("POST", base+"/auth/token", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			last = err
			return false, nil
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &tok) != nil || tok.AccessToken == "" {
			last = fmt.Errorf("login: HTTP %d: %.300s", resp.StatusCode, b)
			return false, nil
		}
		req, _ = http.NewRequest("GET", base+"/api/v2/dags?dag_id_pattern=airkube_e2e_groups", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		if last = get(req, http.StatusOK, `"airkube_e2e_groups"`); last != nil {
			return false, nil
		}
		req, _ = http.NewRequest("GET", base+"/", nil)
		last = get(req, http.StatusOK, "<html")
		return last == nil, nil
	}); err != nil {
		t.Fatalf("the UI through %s at %s: %v", what, base, last)
	}
	return time.Since(start)
}

// assertIngressAndGateway serves the weather release's UI through the kind cluster's Traefik: first an
// Ingress (TLS from the test CA, a base path, the UI port open to Traefik's namespace only), then an
// HTTPRoute on Traefik's Gateway instead. Each time a REST login and the DAG list go through the
// controller, verified against the test CA. It returns the release as it leaves it (the Gateway).
func assertIngressAndGateway(t *testing.T, res *render.Result, spec, kindOverlay, password string) *render.Result {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(filepath.Dir(nasDir(t)), "tls")
	crt, err1 := os.ReadFile(filepath.Join(dir, "tls.crt"))
	key, err2 := os.ReadFile(filepath.Join(dir, "tls.key"))
	if err1 != nil || err2 != nil {
		t.Fatalf("the kind cluster's test certificate: %v %v", err1, err2)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "weather-tls"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": crt, "tls.key": key}}
	if _, err := cluster.client.CoreV1().Secrets(kindNS).Create(ctx, secret, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}

	ingress := renderWith(t, spec, []string{kindOverlay}, ingressOverlay)
	figure(t, "kind weather-etl upgrade to a base path behind Traefik's Ingress", helmInstall(t, ingress))
	figure(t, "kind UI login through Traefik's Ingress (TLS, base path) after the upgrade", assertUIThrough(t, "the Ingress", password))
	figure(t, "kind UI sign-in in headless Chromium through Traefik's Ingress, the page to the DAG list", browserLogin(t, "the Ingress", password))
	// Traefik's namespace gets in (above); another namespace still does not.
	startProbe(t, "weather-etl")
	api := "weather-etl-api-server." + kindNS + ":8080"
	var got map[string]string
	if err := poll(time.Minute, func() (bool, error) {
		got = connects(t, probeNS, "probe", "probe", api)
		return got[api] == "closed", nil
	}); err != nil {
		t.Errorf("with uiFrom Traefik's namespace, from namespace %s: %v, want closed", probeNS, got)
	}

	gateway := renderWith(t, spec, []string{kindOverlay}, gatewayOverlay)
	figure(t, "kind weather-etl upgrade from the Ingress to an HTTPRoute", helmInstall(t, gateway))
	if _, err := cluster.client.NetworkingV1().Ingresses(kindNS).Get(ctx, "weather-etl-api-server", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the Ingress is still there after the move to the Gateway: %v", err)
	}
	figure(t, "kind UI login through Traefik's Gateway (HTTPRoute) after the upgrade", assertUIThrough(t, "the Gateway", password))
	figure(t, "kind UI sign-in in headless Chromium through Traefik's Gateway, the page to the DAG list", browserLogin(t, "the Gateway", password))
	return gateway
}
