package manifests

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/sysrec/sysrec/agent/internal/apitest"
	"github.com/sysrec/sysrec/agent/spo"
	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/profiles"
)

const deployDir = "../../deploy"

// documents returns every YAML document under deploy/ but the
// kustomization, by file.
func documents(t *testing.T) map[string][][]byte {
	t.Helper()
	docs := map[string][][]byte{}
	err := filepath.WalkDir(deployDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") || d.Name() == "kustomization.yaml" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
		for {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			if len(bytes.TrimSpace(doc)) > 0 {
				docs[path] = append(docs[path], doc)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// TestManifests: every object under deploy/ decodes strictly with the
// Kubernetes API machinery (an unknown or misspelt field fails), the
// kustomization lists exactly the non-example files, and the DaemonSet
// and ClusterRole grant no more than the agent uses.
func TestManifests(t *testing.T) {
	codecs := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict)
	decoder := codecs.UniversalDeserializer()
	objects := map[string]runtime.Object{}
	var files []string
	for path, docs := range documents(t) {
		rel, _ := filepath.Rel(deployDir, path)
		if !strings.HasPrefix(rel, "examples/") {
			files = append(files, rel)
		}
		for _, doc := range docs {
			obj, gvk, err := decoder.Decode(doc, nil, nil)
			if err != nil {
				t.Errorf("%s: %v", rel, err)
				continue
			}
			objects[gvk.Kind+"/"+obj.(interface{ GetName() string }).GetName()] = obj
		}
	}
	var kust struct {
		Resources []string `json:"resources"`
	}
	b, err := os.ReadFile(filepath.Join(deployDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &kust); err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	slices.Sort(kust.Resources)
	if !slices.Equal(files, kust.Resources) {
		t.Errorf("kustomization resources %v, files %v", kust.Resources, files)
	}

	ds, ok := objects["DaemonSet/sysrec-agent"].(*appsv1.DaemonSet)
	if !ok {
		t.Fatalf("no DaemonSet sysrec-agent in %v", objects)
	}
	c := ds.Spec.Template.Spec.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.Privileged == nil || *sc.Privileged || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("agent security context %+v: not privileged, no privilege escalation", sc)
	}
	if sc != nil && sc.Capabilities != nil {
		if !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || !reflect.DeepEqual(sc.Capabilities.Add, []corev1.Capability{"BPF", "PERFMON"}) {
			t.Errorf("capabilities %+v, want drop ALL, add BPF and PERFMON only", sc.Capabilities)
		}
	}
	if ds.Spec.Template.Spec.HostPID || ds.Spec.Template.Spec.HostNetwork {
		t.Error("the agent needs neither the host's pid nor its network namespace")
	}
	for _, m := range c.VolumeMounts {
		if m.Name != "state" && !m.ReadOnly {
			t.Errorf("host mount %s is writable", m.MountPath)
		}
	}
	role, ok := objects["ClusterRole/sysrec-agent"].(*rbacv1.ClusterRole)
	if !ok {
		t.Fatal("no ClusterRole sysrec-agent")
	}
	want := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{emit.SPOGroup}, Resources: []string{spo.Resource.Resource}, Verbs: []string{"get", "list", "watch", "create", "update"}},
	}
	if !reflect.DeepEqual(role.Rules, want) {
		t.Errorf("cluster role rules %+v, want %+v", role.Rules, want)
	}
}

// crdSchema is the schema of version in SPO's CRD: its validator and
// its structural form (what pruning keeps).
func crdSchema(t *testing.T, version string) (validation.SchemaValidator, *structuralschema.Structural) {
	t.Helper()
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(apitest.SeccompProfileCRD, &crd); err != nil {
		t.Fatal(err)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name != version {
			continue
		}
		var internal apiextensions.CustomResourceValidation
		if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(v.Schema, &internal, nil); err != nil {
			t.Fatal(err)
		}
		validator, _, err := validation.NewSchemaValidator(internal.OpenAPIV3Schema)
		if err != nil {
			t.Fatal(err)
		}
		structural, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
		if err != nil {
			t.Fatal(err)
		}
		return validator, structural
	}
	t.Fatalf("SPO's CRD has no version %s", version)
	return nil, nil
}

// checkSchema validates obj against the schema and fails if pruning
// would drop a field of it (the API server would store less than sysrec
// wrote, silently).
func checkSchema(t *testing.T, what string, obj map[string]any, validator validation.SchemaValidator, structural *structuralschema.Structural) {
	t.Helper()
	if res := validator.Validate(obj); !res.IsValid() {
		t.Errorf("%s: refused by SPO's schema: %v", what, res.Errors)
	}
	pruned := runtime.DeepCopyJSON(obj)
	pruning.PruneWithOptions(pruned, structural, true, structuralschema.UnknownFieldPathOptions{})
	if !reflect.DeepEqual(pruned, obj) {
		t.Errorf("%s: fields SPO's schema does not know would be dropped", what)
	}
}

// TestSeccompProfileSchema: what sysrec writes for SPO — emit's spo and
// spo-v1beta1 formats, a partial and a merged profile of the agent — is
// valid under SPO's CRD schema (testdata SOURCE.md) and loses nothing
// to pruning. The emit test profile has argument rules whose OCI masks
// are above int64 (TestSPOArgs).
func TestSeccompProfileSchema(t *testing.T) {
	p, err := profiles.Load("../../emit/testdata/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ format, version string }{{"spo", "v1"}, {"spo-v1beta1", "v1beta1"}} {
		format, err := emit.LookupFormat(f.format)
		if err != nil {
			t.Fatal(err)
		}
		out, err := format.Emit(p, emit.Options{ContainerSetup: emit.ContainerSetupAll})
		if err != nil {
			t.Fatal(err)
		}
		j, err := yaml.YAMLToJSON(out)
		if err != nil {
			t.Fatal(err)
		}
		obj := fromJSON(t, j)
		if got := obj["apiVersion"]; got != emit.SPOGroup+"/"+f.version {
			t.Errorf("emit --format %s: apiVersion %v", f.format, got)
		}
		v, s := crdSchema(t, f.version)
		checkSchema(t, "emit --format "+f.format, obj, v, s)
	}
	v, s := crdSchema(t, "v1")
	partial, err := (spo.Partial{Workload: spo.Workload{Namespace: "shop", Recording: "web", Container: "app"}, Node: "n1", Pod: "shop/web-1", PodUID: "u1", Profile: p}).Object()
	if err != nil {
		t.Fatal(err)
	}
	checkSchema(t, "a partial", normalizeU(t, partial), v, s)
	lost, err := (spo.Partial{Workload: spo.Workload{Namespace: "shop", Recording: "web", Container: "app"}, Node: "n1", Pod: "shop/web-1", PodUID: "u1", Incomplete: "lost"}).Object()
	if err != nil {
		t.Fatal(err)
	}
	checkSchema(t, "a lost recording's partial", normalizeU(t, lost), v, s)
}

// fromJSON reads j as the API server reads an object (integers as
// int64).
func fromJSON(t *testing.T, j []byte) map[string]any {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil {
		t.Fatal(err)
	}
	return u.Object
}

func normalizeU(t *testing.T, u *unstructured.Unstructured) map[string]any {
	t.Helper()
	j, err := u.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return fromJSON(t, j)
}
