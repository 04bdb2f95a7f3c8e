package apitest

import (
	"context"
	_ "embed"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	servertesting "k8s.io/apiextensions-apiserver/pkg/cmd/server/testing"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/storage/etcd3/testserver"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/yaml"
)

// SeccompProfileCRD is SPO's SeccompProfile CRD (testdata/SOURCE.md).
//
//go:embed testdata/seccompprofiles.yaml
var SeccompProfileCRD []byte

// Server is a running API server. Its Config stays valid across Restart.
type Server struct {
	t          testing.TB
	etcdURL    string
	kubeconfig string

	mu      sync.Mutex
	current *instance // nil while stopped
}

type instance struct {
	host     string // host:port
	token    string
	tearDown func()
}

// Start starts etcd and an API server, installs the SeccompProfile CRD
// and stops both when t ends. The server's logs are dropped unless
// SYSREC_TEST_APISERVER_LOG is set.
func Start(t testing.TB) *Server {
	t.Helper()
	if os.Getenv("SYSREC_TEST_APISERVER_LOG") == "" {
		klog.SetLogger(logr.Discard()) // the server's own chatter
	}
	cfg := testserver.NewTestConfig(t)
	testserver.RunEtcd(t, cfg)
	s := &Server{t: t, etcdURL: cfg.ListenClientUrls[0].String()}
	// The delegated authentication and authorization want a kubeconfig
	// to start; with --authentication-skip-lookup nothing dials it, and
	// the loopback token Config hands out is a system:masters one.
	s.kubeconfig = filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(s.kubeconfig, []byte(fakeKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	s.Restart()
	InstallCRD(t, s.Config(), SeccompProfileCRD)
	s.warmUp()
	return s
}

const fakeKubeconfig = `apiVersion: v1
kind: Config
clusters:
- cluster: {server: "http://127.1.2.3:12345"}
  name: none
contexts:
- context: {cluster: none, user: none}
  name: none
current-context: none
users:
- name: none
  user: {username: none, password: none}
`

// warmUp writes and deletes one SeccompProfile: the server's first
// write of a kind builds what it needs for it (its managed-fields
// schema; up to 2 s on a loaded machine), which a cluster pays once and
// the tests' latencies should not.
func (s *Server) warmUp() {
	dyn, err := dynamic.NewForConfig(s.Config())
	if err != nil {
		s.t.Fatal(err)
	}
	res := dyn.Resource(schema.GroupVersionResource{Group: "security-profiles-operator.x-k8s.io", Version: "v1", Resource: "seccompprofiles"})
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "security-profiles-operator.x-k8s.io/v1", "kind": "SeccompProfile",
		"metadata": map[string]any{"name": "sysrec-test-warm-up"},
		"spec":     map[string]any{"defaultAction": "SCMP_ACT_KILL_PROCESS"},
	}}
	ctx := context.Background()
	if _, err := res.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		s.t.Fatalf("warm up: %v", err)
	}
	if err := res.Delete(ctx, obj.GetName(), metav1.DeleteOptions{}); err != nil {
		s.t.Fatalf("warm up: %v", err)
	}
}

// Stop stops the API server (etcd keeps running); requests fail until
// Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	cur := s.current
	s.current = nil
	s.mu.Unlock()
	if cur != nil {
		cur.tearDown()
	}
}

// Restart stops the API server if it runs and starts a new one on the
// same etcd.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	ts, err := servertesting.StartTestServer(s.t, nil, []string{
		"--etcd-servers", s.etcdURL,
		"--etcd-prefix", "/sysrec-test",
		"--authentication-skip-lookup",
		"--authentication-kubeconfig", s.kubeconfig,
		"--authorization-kubeconfig", s.kubeconfig,
		"--kubeconfig", s.kubeconfig,
		// Admission and filters that would call a kube-apiserver this
		// server does not have: requests hang without these.
		"--enable-priority-and-fairness=false",
		// Watches end at shutdown instead of holding it for the 60 s
		// request timeout.
		"--shutdown-watch-termination-grace-period=2s",
		"--disable-admission-plugins", "NamespaceLifecycle,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy,MutatingAdmissionPolicy",
	}, nil)
	if err != nil {
		s.t.Fatalf("start the api server: %v", err)
	}
	u, err := url.Parse(ts.ClientConfig.Host)
	if err != nil {
		ts.TearDownFn()
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.current = &instance{host: u.Host, token: ts.ClientConfig.BearerToken, tearDown: ts.TearDownFn}
	s.mu.Unlock()
}

// Config returns a client configuration that reaches whichever API
// server runs now: its address and loopback token change with Restart.
func (s *Server) Config() *rest.Config {
	return &rest.Config{
		Host:            "https://sysrec-test-apiserver",
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		QPS:             -1, // no client-side rate limit: the tests measure latency
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
			return roundTripper(func(req *http.Request) (*http.Response, error) {
				s.mu.Lock()
				cur := s.current
				s.mu.Unlock()
				if cur == nil {
					return nil, errors.New("the test api server is stopped")
				}
				req = req.Clone(req.Context())
				req.URL.Host = cur.host
				req.Host = cur.host
				req.Header.Set("Authorization", "Bearer "+cur.token)
				return rt.RoundTrip(req)
			})
		},
	}
}

// Endpoint is the address and token of the API server running now, for
// a client in another process (Config is for this one).
func (s *Server) Endpoint() (host, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == nil {
		return "", ""
	}
	return s.current.host, s.current.token
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// InstallCRD creates the CRD in doc (YAML) and waits until it is
// established.
func InstallCRD(t testing.TB, cfg *rest.Config, doc []byte) {
	t.Helper()
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(doc, &crd); err != nil {
		t.Fatalf("decode crd: %v", err)
	}
	cs, err := clientset.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	crds := cs.ApiextensionsV1().CustomResourceDefinitions()
	if _, err := crds.Create(ctx, &crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create crd %s: %v", crd.Name, err)
	}
	w, err := crds.Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", crd.Name).String()})
	if err != nil {
		t.Fatalf("watch crd %s: %v", crd.Name, err)
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		c, ok := ev.Object.(*apiextensionsv1.CustomResourceDefinition)
		if !ok {
			continue
		}
		for _, cond := range c.Status.Conditions {
			if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
				return
			}
		}
	}
	t.Fatalf("crd %s not established: %v", crd.Name, context.Cause(ctx))
}
