package v1alpha1

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// TestFittingConcurrency: a worker's default slots fit its memory limit.
func TestFittingConcurrency(t *testing.T) {
	limit := func(l string) *corev1.ResourceRequirements {
		return &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(l)}}
	}
	for _, c := range []struct {
		r    *corev1.ResourceRequirements
		want int32
	}{
		{nil, 6}, // DefaultWorkerMemoryLimit, 2Gi
		{limit("1Gi"), 2},
		{limit("512Mi"), 1},
		{limit("8Gi"), 16},
		{limit("64Gi"), 16},
		{&corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}, 16},
	} {
		if got := FittingConcurrency(c.r); got != c.want {
			t.Errorf("FittingConcurrency(%v) = %d, want %d", c.r, got, c.want)
		}
	}
}
