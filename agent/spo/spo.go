package spo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/profiles"
)

// SPO's labels (api/profilebase/v1/profilebase.go and
// api/profilerecording/v1/profilerecording_types.go of
// kubernetes-sigs/security-profiles-operator): SPO's daemon does not
// install a profile labelled partial, and its recording merger finds
// partials by the recording labels.
const (
	LabelPartial            = "spo.x-k8s.io/partial"
	LabelRecording          = "spo.x-k8s.io/recording-id"
	LabelRecordingNamespace = "spo.x-k8s.io/recording-namespace"
	LabelContainer          = "spo.x-k8s.io/container-id"
)

// sysrec's own labels and annotations.
const (
	// LabelIncomplete marks a partial whose recording missed part of
	// the container's life; the merger leaves it out.
	LabelIncomplete = "sysrec.dev/incomplete"
	// LabelMerged marks a profile the merger wrote.
	LabelMerged = "sysrec.dev/merged"

	AnnotationProfile    = "sysrec.dev/profile"    // the sysrec profile, JSON
	AnnotationIncomplete = "sysrec.dev/incomplete" // why a partial is incomplete
	AnnotationPod        = "sysrec.dev/pod"        // namespace/name of the recorded pod
	AnnotationPodUID     = "sysrec.dev/pod-uid"
	AnnotationNode       = "sysrec.dev/node"
	AnnotationPartials   = "sysrec.dev/partials"   // JSON list of the partials merged in
	AnnotationSeen       = "sysrec.dev/seen"       // JSON: entry → "k of n"
	AnnotationConfidence = "sysrec.dev/confidence" // JSON: profiles.Confidence
	AnnotationDiff       = "sysrec.dev/diff"       // what this version allows beyond the last
	AnnotationVersion    = "sysrec.dev/version"    // 1, 2, ...: one per write of the merged profile
)

// Resource is SeccompProfile of SPO's v1 API.
var Resource = schema.GroupVersionResource{Group: emit.SPOGroup, Version: emit.SPOVersion, Resource: "seccompprofiles"}

// maxProfileAnnotation keeps the profile annotation below the 256 KiB
// the API server allows for all annotations of an object together.
const maxProfileAnnotation = 192 << 10

// Workload is what partials are merged by: a container of the pods of
// one recording (SPO's recording id) in one namespace.
type Workload struct {
	Namespace string
	Recording string
	Container string
}

func (w Workload) String() string { return w.Namespace + "/" + w.Recording + "/" + w.Container }

// Validate refuses a workload whose parts cannot be label values.
func (w Workload) Validate() error {
	for _, v := range []struct{ what, value string }{{"namespace", w.Namespace}, {"recording", w.Recording}, {"container", w.Container}} {
		if v.value == "" {
			return fmt.Errorf("workload %s: no %s", w, v.what)
		}
		if errs := validation.IsValidLabelValue(v.value); len(errs) > 0 {
			return fmt.Errorf("workload %s: %s %q: %s", w, v.what, v.value, strings.Join(errs, "; "))
		}
	}
	if errs := validation.IsDNS1123Label(w.Namespace); len(errs) > 0 {
		return fmt.Errorf("workload %s: namespace: %s", w, strings.Join(errs, "; "))
	}
	// The partials' names add 11 characters.
	if errs := validation.IsDNS1123Subdomain(w.MergedName() + "-0123456789"); len(errs) > 0 {
		return fmt.Errorf("workload %s: cannot name a profile %s: %s", w, w.MergedName(), strings.Join(errs, "; "))
	}
	return nil
}

// MergedName is the merged profile's name: NAMESPACE.RECORDING-CONTAINER.
// SPO's recording merger names it RECORDING-CONTAINER, but SeccompProfile
// v1 is cluster-scoped: that name would let a pod of one namespace claim
// (and write) the profile another namespace's pods load. A namespace
// has no dot, so the first dot ends it; within a namespace any pod may
// claim a recording id anyway.
func (w Workload) MergedName() string { return w.Namespace + "." + w.Recording + "-" + w.Container }

// Labels are the labels every object of w carries.
func (w Workload) Labels() map[string]string {
	return map[string]string{LabelRecording: w.Recording, LabelRecordingNamespace: w.Namespace, LabelContainer: w.Container}
}

// Selector selects w's complete partials.
func (w Workload) Selector() string {
	return fmt.Sprintf("%s=true,%s=%s,%s=%s,%s=%s,!%s", LabelPartial, LabelRecording, w.Recording, LabelRecordingNamespace, w.Namespace, LabelContainer, w.Container, LabelIncomplete)
}

// WorkloadOf reads w from an object's labels.
func WorkloadOf(obj *unstructured.Unstructured) (Workload, error) {
	l := obj.GetLabels()
	w := Workload{Namespace: l[LabelRecordingNamespace], Recording: l[LabelRecording], Container: l[LabelContainer]}
	return w, w.Validate()
}

// Partial is one container's recording in one pod.
type Partial struct {
	Workload
	Node   string
	Pod    string // namespace/name
	PodUID string
	// Profile is nil for a recording lost whole (the agent restarted
	// in the middle of it).
	Profile *profiles.Profile
	// Incomplete says why the recording missed part of the container's
	// life; "" when it saw all of it.
	Incomplete string
}

// Name is the partial's object name: the merged name and a hash of the
// pod and container.
func (p Partial) Name() string {
	sum := sha256.Sum256([]byte(p.PodUID + "/" + p.Container))
	return p.MergedName() + "-" + hex.EncodeToString(sum[:5])
}

// Object is p as a SeccompProfile.
func (p Partial) Object() (*unstructured.Unstructured, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	labels := p.Labels()
	labels[LabelPartial] = "true"
	ann := map[string]string{AnnotationPod: p.Pod, AnnotationPodUID: p.PodUID, AnnotationNode: p.Node}
	if p.Incomplete != "" {
		labels[LabelIncomplete] = "true"
		ann[AnnotationIncomplete] = p.Incomplete
	}
	return Object(p.Name(), labels, ann, p.Profile)
}

// Object is a SeccompProfile called name whose spec is prof's (none, and
// default action kill_process, for a nil prof), with prof in the
// profile annotation.
func Object(name string, labels, annotations map[string]string, prof *profiles.Profile) (*unstructured.Unstructured, error) {
	spec := map[string]any{"defaultAction": "SCMP_ACT_KILL_PROCESS"}
	if prof != nil {
		s, err := emit.SPOSpecOf(prof, emit.Options{ContainerSetup: emit.ContainerSetupAll})
		if err != nil {
			return nil, err
		}
		if spec, err = runtime.DefaultUnstructuredConverter.ToUnstructured(&s); err != nil {
			return nil, fmt.Errorf("encode profile %s: %w", name, err)
		}
		b, err := prof.Marshal()
		if err != nil {
			return nil, err
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, b); err != nil {
			return nil, fmt.Errorf("encode profile %s: %w", name, err)
		}
		if compact.Len() > maxProfileAnnotation {
			return nil, fmt.Errorf("encode profile %s: %d bytes of JSON, more than the %d an annotation takes", name, compact.Len(), maxProfileAnnotation)
		}
		annotations[AnnotationProfile] = compact.String()
	}
	obj := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	obj.SetAPIVersion(Resource.GroupVersion().String())
	obj.SetKind("SeccompProfile")
	obj.SetName(name)
	obj.SetLabels(labels)
	obj.SetAnnotations(annotations)
	return obj, nil
}

// ProfileOf returns the sysrec profile an object carries, nil if none.
func ProfileOf(obj *unstructured.Unstructured) (*profiles.Profile, error) {
	s, ok := obj.GetAnnotations()[AnnotationProfile]
	if !ok {
		return nil, nil
	}
	p, err := profiles.Parse([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("read profile of %s: %w", obj.GetName(), err)
	}
	return p, nil
}
