package validate

import (
	"net/url"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

func (c *checker) kubernetesAPI(r *v1alpha1.AirflowRelease, executors v1alpha1.ExecutorSet) {
	k := &r.KubernetesAPI
	podOperators := k.PodOperators
	for _, g := range r.TaskGroups {
		if g.PodOperators != nil && *g.PodOperators {
			podOperators = true
		}
	}
	if ca := k.CABundle; ca != nil {
		if (ca.ConfigMap == "") == (ca.Secret == "") {
			c.errorf("kubernetesAPI.caBundle", "give exactly one of configMap or secret")
		}
	}
	insecure := k.VerifySSL != nil && !*k.VerifySSL
	if k.Server != "" {
		if u, err := url.Parse(k.Server); err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			c.errorf("kubernetesAPI.server", "%q is not an API server URL like https://api.example.com:6443", k.Server)
		}
	}
	switch {
	case (k.CABundle != nil || k.VerifySSL != nil || k.Server != "") && !executors.Kubernetes && !podOperators:
		c.errorf("kubernetesAPI", "only used by the KubernetesExecutor or by pod operators (podOperators: true), neither of which this release runs; remove it or set podOperators: true")
	case insecure && !k.AllowInsecureTLS:
		c.errorf("kubernetesAPI.verifySSL", "false turns off TLS checks of the Kubernetes API; give caBundle with the API's CA instead, or set allowInsecureTLS: true to accept the risk")
	case insecure:
		c.warnf("kubernetesAPI.verifySSL", "TLS checks of the Kubernetes API are off: anyone on the path can impersonate the API server; prefer caBundle")
	}
	if insecure && k.CABundle != nil {
		c.errorf("kubernetesAPI.caBundle", "has no effect with verifySSL: false; keep one of them")
	}
}
