package model

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// The Python clients count a credential as expired this long before its expirationTimestamp
// (EXPIRY_SKEW_PREVENTION_DELAY in kubernetes and kubernetes_asyncio's kube_config.py).
const pythonExpirySkew = 5 * time.Minute

// TestKubeconfigExecCredential: the kubeconfig's user is the exec plugin, and running it as a client
// would (its command, args and env, the token file swapped for a test file) prints an ExecCredential
// with the file's current token, expiring soon enough that the Python clients run it again before
// every request.
func TestKubeconfigExecCredential(t *testing.T) {
	v := build(t, "3.3.2", "LocalExecutor", "kubernetesAPI: {podOperators: true}\ntaskGroups: [{name: default}]\n")
	cfg, err := clientcmd.Load([]byte(v.ConfigMaps["obs-kubeconfig"]["config"]))
	if err != nil {
		t.Fatal(err)
	}
	// client-go reads the files a kubeconfig names when it validates it: the CA, here a test file.
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.CertificateAuthority = ca
	}
	if err := clientcmd.Validate(*cfg); err != nil {
		t.Fatalf("client-go refuses the kubeconfig: %v", err)
	}
	user := cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo]
	if user.Token != "" || user.TokenFile != "" || user.Exec == nil {
		t.Fatalf("user: want only an exec credential, got %+v", user)
	}
	if user.Exec.APIVersion != "client.authentication.k8s.io/v1" || user.Exec.InteractiveMode != clientcmdapi.NeverExecInteractiveMode {
		t.Errorf("exec: apiVersion %q, interactiveMode %q", user.Exec.APIVersion, user.Exec.InteractiveMode)
	}
	env := map[string]string{}
	for _, e := range user.Exec.Env {
		env[e.Name] = e.Value
	}
	if env["TOKEN_FILE"] != KubeTokenFile {
		t.Errorf("exec reads %q, want the projected token %s", env["TOKEN_FILE"], KubeTokenFile)
	}

	tokenFile := filepath.Join(t.TempDir(), "token")
	plugin := func() ([]byte, error) { // as a client runs it, with only the plugin's own env
		cmd := exec.Command(user.Exec.Command, user.Exec.Args...)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "TOKEN_FILE=" + tokenFile, "VALID_SECONDS=" + env["VALID_SECONDS"]}
		return cmd.Output()
	}
	for _, token := range []string{"first.jwt-token_A", "rotated.jwt-token_B"} { // as the kubelet rewrites it
		if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
			t.Fatal(err)
		}
		before := time.Now()
		out, err := plugin()
		if err != nil {
			t.Fatalf("%s: %v", user.Exec.Command, err)
		}
		var cred clientauthv1.ExecCredential
		if err := json.Unmarshal(out, &cred); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		if diff := cmp.Diff([]string{user.Exec.APIVersion, "ExecCredential", token},
			[]string{cred.APIVersion, cred.Kind, cred.Status.Token}); diff != "" {
			t.Errorf("ExecCredential (-want +got):\n%s", diff)
		}
		exp := cred.Status.ExpirationTimestamp
		valid := time.Duration(kubeCredentialSeconds) * time.Second
		if exp == nil || exp.Time.Before(before.Add(valid-2*time.Second)) || exp.Time.After(before.Add(valid+2*time.Second)) {
			t.Errorf("expirationTimestamp %v, want %v from now", exp, valid)
		}
	}
	if valid := time.Duration(kubeCredentialSeconds) * time.Second; valid >= pythonExpirySkew || strconv.Itoa(kubeCredentialSeconds) != env["VALID_SECONDS"] {
		t.Errorf("credential valid %v (env %q): must be under %v, or the Python clients keep a token that long", valid, env["VALID_SECONDS"], pythonExpirySkew)
	}

	// Without the token file the plugin fails, rather than print an empty token.
	if err := os.Remove(tokenFile); err != nil {
		t.Fatal(err)
	}
	if out, err := plugin(); err == nil {
		t.Errorf("without the token file the plugin succeeded: %q", out)
	}
}
