package validate

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

// selectorKeys are the labels airkube's selectors use: a pod label must not change them.
var selectorKeys = []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component", "airkube.dev/task-group"}

func (c *checker) podOptions(path string, annotations, labels map[string]string, priority string,
	spread []corev1.TopologySpreadConstraint, envFrom []corev1.EnvFromSource) {
	for _, k := range sortedMapKeys(annotations) {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			c.errorf(path+".podAnnotations", "%q is not an annotation key: %s", k, strings.Join(errs, "; "))
		}
	}
	for _, k := range sortedMapKeys(labels) {
		switch {
		case contains(selectorKeys, k):
			c.errorf(path+".podLabels", "%q is one of airkube's selector labels (%s); choose another key", k, strings.Join(selectorKeys, ", "))
		case len(validation.IsQualifiedName(k)) > 0:
			c.errorf(path+".podLabels", "%q is not a label key: %s", k, strings.Join(validation.IsQualifiedName(k), "; "))
		case len(validation.IsValidLabelValue(labels[k])) > 0:
			c.errorf(path+".podLabels", "%s: %q is not a label value: %s", k, labels[k], strings.Join(validation.IsValidLabelValue(labels[k]), "; "))
		}
	}
	if priority != "" && !dnsSubdomain.MatchString(priority) {
		c.errorf(path+".priorityClassName", "%q is not a PriorityClass name", priority)
	}
	for i, s := range spread {
		p := fmt.Sprintf("%s.topologySpreadConstraints[%d]", path, i)
		if s.MaxSkew < 1 {
			c.errorf(p+".maxSkew", "%d: at least 1", s.MaxSkew)
		}
		if s.TopologyKey == "" {
			c.errorf(p+".topologyKey", "required, e.g. topology.kubernetes.io/zone")
		}
		if s.WhenUnsatisfiable != corev1.DoNotSchedule && s.WhenUnsatisfiable != corev1.ScheduleAnyway {
			c.errorf(p+".whenUnsatisfiable", "%q is not DoNotSchedule or ScheduleAnyway", s.WhenUnsatisfiable)
		}
	}
	for i, e := range envFrom {
		p := fmt.Sprintf("%s.envFrom[%d]", path, i)
		switch {
		case (e.SecretRef == nil) == (e.ConfigMapRef == nil):
			c.errorf(p, "give exactly one of secretRef or configMapRef")
		case e.SecretRef != nil && e.SecretRef.Name == "", e.ConfigMapRef != nil && e.ConfigMapRef.Name == "":
			c.errorf(p, "required: the name of the Secret or ConfigMap")
		}
	}
}

func (c *checker) groupSecurity(path string, s *v1alpha1.GroupSecurity) {
	if s == nil {
		return
	}
	if s.RunAsUser != nil && *s.RunAsUser == 0 {
		c.errorf(path+".securityContext.runAsUser", "0 (root) breaks the restricted Pod Security Standard; use the uid the legacy image's files belong to")
	}
	for name, v := range map[string]*int64{"runAsUser": s.RunAsUser, "runAsGroup": s.RunAsGroup, "fsGroup": s.FSGroup} {
		if v != nil && *v < 0 {
			c.errorf(path+".securityContext."+name, "%d: an id is at least 0", *v)
		}
	}
	for _, g := range s.SupplementalGroups {
		if g < 0 {
			c.errorf(path+".securityContext.supplementalGroups", "%d: an id is at least 0", g)
		}
	}
}

func (c *checker) allPodOptions(r *v1alpha1.AirflowRelease) {
	for _, comp := range r.Components.Fields() {
		path := "components." + comp.Field
		c.podOptions(path, comp.PodAnnotations, comp.PodLabels, comp.PriorityClassName, comp.TopologySpreadConstraints, comp.EnvFrom)
		c.podContainers(path, "component", r.Airflow.Image, componentContainers[comp.Field], comp.Volumes, comp.InitContainers, comp.Sidecars)
	}
	for i, g := range r.TaskGroups {
		path := fmt.Sprintf("taskGroups[%d]", i)
		c.podOptions(path, g.PodAnnotations, g.PodLabels, g.PriorityClassName, g.TopologySpreadConstraints, g.EnvFrom)
		c.groupSecurity(path, g.SecurityContext)
		c.podContainers(path, "group", g.Image, groupContainers, g.Volumes, g.InitContainers, g.Sidecars)
	}
}

// Names airkube gives containers: in every Airflow pod, in task groups' pods and in each component's
// pods (its main container; the 3.x api-server's auth-passwords).
var (
	airflowContainers   = []string{"wait-for-migrations", "git-sync", "git-sync-init"}
	groupContainers     = []string{"base", "worker"}
	componentContainers = map[string][]string{"apiServer": {"api-server", "webserver", "auth-passwords"},
		"scheduler": {"scheduler"}, "dagProcessor": {"dag-processor"}, "triggerer": {"triggerer"}}
)

// podContainers checks the init containers and sidecars of a task group's or a component's pods
// (owner, for messages): unique names that are not airkube's (own, beside airflowContainers), image
// references other than the pod's own image (podImage, checked where it is set), the
// restricted Pod Security Standard (airkube adds its restricted context; nothing may loosen it), and
// mounts of the volumes the pods have, data-<name> for each of volumes.
func (c *checker) podContainers(path, owner, podImage string, own, volumes []string, inits, sidecars []corev1.Container) {
	reserved := append(append([]string{}, own...), airflowContainers...)
	mountable := map[string]bool{"config": true, "python": true, "dags": true, "logs": true, "tmp": true}
	for _, v := range volumes {
		mountable["data-"+v] = true
	}
	seen := map[string]bool{}
	for _, l := range []struct {
		kind string
		list []corev1.Container
	}{{"initContainers", inits}, {"sidecars", sidecars}} {
		for i, ctr := range l.list {
			p := fmt.Sprintf("%s.%s[%d]", path, l.kind, i)
			switch {
			case !dnsLabel.MatchString(ctr.Name):
				c.errorf(p+".name", "%q is not a container name (a DNS label)", ctr.Name)
			case contains(reserved, ctr.Name) || seen[ctr.Name]:
				c.errorf(p+".name", "%q is taken (airkube uses %s); choose another", ctr.Name, strings.Join(reserved, ", "))
			}
			seen[ctr.Name] = true
			if len(ctr.Resources.Requests) == 0 && len(ctr.Resources.Limits) == 0 {
				c.warnf(p+".resources", "%q has no resources: its pods are placed as if it needed nothing, and it may take "+
					"the node's memory; set requests and a memory limit, e.g. {requests: {cpu: 10m, memory: 32Mi}, limits: {memory: 64Mi}}", ctr.Name)
			}
			if ctr.Image != podImage {
				c.image(p+".image", ctr.Image)
			}
			if s := ctr.SecurityContext; s != nil {
				switch {
				case s.Privileged != nil && *s.Privileged:
					c.errorf(p+".securityContext.privileged", "breaks the restricted Pod Security Standard")
				case s.AllowPrivilegeEscalation != nil && *s.AllowPrivilegeEscalation:
					c.errorf(p+".securityContext.allowPrivilegeEscalation", "breaks the restricted Pod Security Standard")
				case s.RunAsUser != nil && *s.RunAsUser == 0, s.RunAsNonRoot != nil && !*s.RunAsNonRoot:
					c.errorf(p+".securityContext", "running as root breaks the restricted Pod Security Standard")
				case s.Capabilities != nil && len(s.Capabilities.Add) > 0 &&
					(len(s.Capabilities.Add) > 1 || s.Capabilities.Add[0] != "NET_BIND_SERVICE"):
					c.errorf(p+".securityContext.capabilities.add", "only NET_BIND_SERVICE keeps the restricted Pod Security Standard")
				case s.ReadOnlyRootFilesystem != nil && !*s.ReadOnlyRootFilesystem:
					c.errorf(p+".securityContext.readOnlyRootFilesystem", "every container of the release has a read-only root; "+
						"write to /tmp (an emptyDir each container mounts) or to a mounted volume (data-<one of the %s's volumes>)", owner)
				}
			}
			for j, m := range ctr.VolumeMounts {
				if !mountable[m.Name] {
					c.errorf(fmt.Sprintf("%s.volumeMounts[%d].name", p, j), "%q is not a volume of the %s's pods; use dags, logs, config, python, tmp or data-<one of the %s's volumes>", m.Name, owner, owner)
				}
			}
		}
	}
}
