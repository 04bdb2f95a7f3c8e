package apitest

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

var seccompProfiles = schema.GroupVersionResource{Group: "security-profiles-operator.x-k8s.io", Version: "v1", Resource: "seccompprofiles"}

// TestServer: the API server stores a cluster-scoped SeccompProfile,
// refuses one its schema refuses, and keeps the object across a restart
// reached through the same client.
func TestServer(t *testing.T) {
	s := Start(t)
	dyn, err := dynamic.NewForConfig(s.Config())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	obj := func(name, action string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "security-profiles-operator.x-k8s.io/v1", "kind": "SeccompProfile",
			"metadata": map[string]any{"name": name},
			"spec":     map[string]any{"defaultAction": action, "syscalls": []any{map[string]any{"action": "SCMP_ACT_ALLOW", "names": []any{"read"}}}},
		}}
	}
	if _, err := dyn.Resource(seccompProfiles).Create(ctx, obj("good", "SCMP_ACT_KILL_PROCESS"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = dyn.Resource(seccompProfiles).Create(ctx, obj("bad", "SCMP_ACT_FROBNICATE"), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "defaultAction") {
		t.Fatalf("a bad defaultAction: %v, want the schema's refusal", err)
	}
	s.Restart()
	got, err := dyn.Resource(seccompProfiles).Get(ctx, "good", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("after a restart: %v", err)
	}
	if a, _, _ := unstructured.NestedString(got.Object, "spec", "defaultAction"); a != "SCMP_ACT_KILL_PROCESS" {
		t.Fatalf("after a restart: defaultAction %q", a)
	}
}
