//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestE2EServerSideValidation creates every object of every golden case with a server
// dry run and strict field validation: unknown fields, bad quantities, invalid names,
// Pod Security violations and missing kinds fail here, naming case, object and field.
func TestE2EServerSideValidation(t *testing.T) {
	kwokOnly(t)
	for _, c := range goldenCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			ns := "ssv-" + sanitize(c.Name)
			namespace(t, ns)
			res := renderWith(t, c.Spec, c.Overlays, fmt.Sprintf("metadata: {namespace: %s}", ns))
			for _, obj := range objects(t, res.Manifest) {
				opts := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}
				if obj.GetKind() == "ServiceAccount" {
					// Created for real (the namespace goes with the test), so the task pods'
					// dry runs below find the account they name.
					opts.DryRun = nil
				}
				if err := createObject(obj, ns, opts); err != nil {
					t.Errorf("%s %s/%s: rejected by the API server: %v", c.Name, obj.GetKind(), obj.GetName(), err)
				}
				// Task pods are created by Airflow, not Helm: create each template as a
				// Pod too, so Pod Security admission judges it.
				if obj.GetKind() == "ConfigMap" && strings.HasSuffix(obj.GetName(), "-pod-templates") {
					data, _, _ := unstructured.NestedStringMap(obj.Object, "data")
					for file, text := range data {
						var pod corev1.Pod
						if err := yaml.UnmarshalStrict([]byte(text), &pod); err != nil {
							t.Errorf("%s pod template %s: %v", c.Name, file, err)
							continue
						}
						// A PriorityClass the spec names is the cluster admin's, like a Secret it names:
						// made here (as the cluster would have it) so Priority admission can judge the pod.
						if pc := pod.Spec.PriorityClassName; pc != "" {
							_, err := cluster.client.SchedulingV1().PriorityClasses().Create(context.Background(),
								&schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: pc}, Value: 1000}, metav1.CreateOptions{})
							if err != nil && !apierrors.IsAlreadyExists(err) {
								t.Fatal(err)
							}
						}
						// Priority admission reads PriorityClasses from its informer's cache: a class made
						// a moment ago may not be there yet, so only that refusal is retried.
						var err error
						_ = poll(30*time.Second, func() (bool, error) {
							_, err = cluster.client.CoreV1().Pods(ns).Create(context.Background(), &pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"})
							return err == nil || !strings.Contains(err.Error(), "no PriorityClass with name"), nil
						})
						if err != nil {
							t.Errorf("%s pod template %s: rejected by the API server: %v", c.Name, file, err)
						}
					}
				}
			}
		})
	}
}
