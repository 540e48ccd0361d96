package model

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

// PodOptions are the spec's pod options of a component or a task group, drawn on its pods (workers,
// task pod templates, component Deployments) beside what airkube decides.
type PodOptions struct {
	PodLabels                 map[string]string                 `json:"podLabels,omitempty"`
	PriorityClassName         string                            `json:"priorityClassName,omitempty"`
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
	EnvFrom                   []corev1.EnvFromSource            `json:"envFrom,omitempty"`
}

// mergeAnnotations returns the pod's own annotations with the spec's added (the spec's win); nil when
// both are empty. Neither map is changed.
func mergeAnnotations(own, spec map[string]string) map[string]string {
	if len(spec) == 0 {
		return own
	}
	merged := map[string]string{}
	for k, v := range own {
		merged[k] = v
	}
	for k, v := range spec {
		merged[k] = v
	}
	return merged
}

// groupSecurity is a task group's pod security context: the Airflow pods' with the group's uid, gid,
// fsGroup and supplemental groups (still non-root, seccomp RuntimeDefault), or nil for the release's.
func (r *release) groupSecurity(g v1alpha1.TaskGroup) *corev1.PodSecurityContext {
	s := g.SecurityContext
	if s == nil {
		return nil
	}
	uid, gid := *r.Airflow.UID, *r.Airflow.GID
	if s.RunAsUser != nil {
		uid = *s.RunAsUser
	}
	if s.RunAsGroup != nil {
		gid = *s.RunAsGroup
	}
	fs := gid
	if s.FSGroup != nil {
		fs = *s.FSGroup
	}
	return &corev1.PodSecurityContext{RunAsUser: &uid, RunAsGroup: &gid, FSGroup: &fs, RunAsNonRoot: ptr(true),
		SupplementalGroups: s.SupplementalGroups,
		SeccompProfile:     &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
}

func componentOptions(c *v1alpha1.Component) (PodOptions, map[string]string) {
	return PodOptions{PodLabels: c.PodLabels, PriorityClassName: c.PriorityClassName,
		TopologySpreadConstraints: c.TopologySpreadConstraints, EnvFrom: c.EnvFrom}, c.PodAnnotations
}

func (r *release) groupOptions(g v1alpha1.TaskGroup) (PodOptions, map[string]string) {
	return PodOptions{PodLabels: g.PodLabels, PriorityClassName: g.PriorityClassName,
		TopologySpreadConstraints: g.TopologySpreadConstraints, EnvFrom: g.EnvFrom}, g.PodAnnotations
}
