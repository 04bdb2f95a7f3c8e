package artifact

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/internal/ocitest"
	"github.com/sysrec/sysrec/profiles"
)

// getJSON reads a manifest straight from the registry's HTTP API, as a
// runtime would, without this package's client.
func getJSON(t *testing.T, host, repo, ref, accept string, v any) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+host+"/v2/"+repo+"/manifests/"+ref, nil)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET manifest %s/%s: %s\n%s", repo, ref, resp.Status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
	return resp.Header.Get("Docker-Content-Digest")
}

// checkManifest: the manifest is what CRI-O and SPO take as a seccomp
// profile artifact.
func checkManifest(t *testing.T, m ocispec.Manifest) {
	t.Helper()
	if m.ArtifactType != MediaTypeSeccompProfile || m.Config.MediaType != MediaTypeSeccompProfile {
		t.Errorf("artifactType %q, config media type %q, want %s for both", m.ArtifactType, m.Config.MediaType, MediaTypeSeccompProfile)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != "application/json" || m.Layers[0].Annotations[ocispec.AnnotationTitle] != "profile.json" {
		t.Errorf("layers %+v, want one application/json layer titled profile.json", m.Layers)
	}
}

// TestPushPull pushes profiles to a real registry (docker-registry, the
// distribution server, on 127.0.0.1) and pulls them back: the pulled
// file is byte for byte the OCI JSON emit writes, the manifest has the
// media types runtimes require, the same profile pushed twice has the
// same digest, and a profile for two machines is an index whose
// platforms each give their own profile.
func TestPushPull(t *testing.T) {
	reg := ocitest.StartRegistry(t)
	ctx := context.Background()
	o := Options{PlainHTTP: true}

	t.Run("one-platform", func(t *testing.T) {
		p, err := profiles.Load("../emit/testdata/sample.json")
		if err != nil {
			t.Fatal(err)
		}
		want, err := emit.OCI(p, emit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ref := "oci://" + reg.Host + "/profiles/sample:v1"
		first, err := Push(ctx, p, ref, o)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Push(ctx, p, "oci://"+reg.Host+"/profiles/sample:v2", o)
		if err != nil {
			t.Fatal(err)
		}
		if first.Digest != again.Digest {
			t.Errorf("the same profile pushed twice: digests %s and %s", first.Digest, again.Digest)
		}
		var m ocispec.Manifest
		if d := getJSON(t, reg.Host, "profiles/sample", "v1", ocispec.MediaTypeImageManifest, &m); d != first.Digest {
			t.Errorf("the registry says v1 is %s, push printed %s", d, first.Digest)
		}
		checkManifest(t, m)
		for _, r := range []string{ref, "oci://" + first.Ref} {
			got, dgst, err := Pull(ctx, r, o)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("pull %s: not the pushed profile\ngot  %s\nwant %s", r, got, want)
			}
			if dgst != first.Digest {
				t.Errorf("pull %s resolved to %s, push printed %s", r, dgst, first.Digest)
			}
		}
	})

	t.Run("two-platforms", func(t *testing.T) {
		p, err := profiles.Load("testdata/two-arches.json")
		if err != nil {
			t.Fatal(err)
		}
		// emit --format oci refuses it (an entry for one arch of two);
		// split by machine, each platform's profile is plain OCI JSON.
		if _, err := emit.OCI(p, emit.Options{}); err == nil {
			t.Fatal("emit.OCI took a profile with an x86_64-only entry among two arches")
		}
		layers, err := Manifests(p, o)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Push(ctx, p, "oci://"+reg.Host+"/profiles/two:v1", o)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(res.Platforms, ",") != "amd64,arm64" {
			t.Errorf("platforms %v, want amd64, arm64", res.Platforms)
		}
		var index ocispec.Index
		getJSON(t, reg.Host, "profiles/two", "v1", ocispec.MediaTypeImageIndex, &index)
		if index.MediaType != ocispec.MediaTypeImageIndex || len(index.Manifests) != 2 {
			t.Fatalf("index %+v, want an OCI index of two manifests", index)
		}
		for _, d := range index.Manifests {
			var m ocispec.Manifest
			getJSON(t, reg.Host, "profiles/two", d.Digest.String(), ocispec.MediaTypeImageManifest, &m)
			checkManifest(t, m)
		}
		for arch, want := range layers {
			got, _, err := Pull(ctx, "oci://"+reg.Host+"/profiles/two:v1", Options{PlainHTTP: true, Platform: arch})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("platform %s: pulled\n%s\nwant\n%s", arch, got, want)
			}
			has := strings.Contains(string(got), `"open"`)
			if has != (arch == "amd64") {
				t.Errorf("platform %s: the x86_64-only open entry is there: %v", arch, has)
			}
		}
		if _, _, err := Pull(ctx, "oci://"+reg.Host+"/profiles/two:v1", Options{PlainHTTP: true, Platform: "riscv64"}); err == nil || !strings.Contains(err.Error(), "no profile for linux/riscv64") {
			t.Errorf("pull of a platform the index lacks: %v", err)
		}
	})
}

// TestPullRefuses: what a registry serves under a profile's name is not
// taken as a profile unless it is one: another artifact type, two
// layers, a layer over the size runtimes accept (refused before it is
// read) or one that is no seccomp profile.
func TestPullRefuses(t *testing.T) {
	reg := ocitest.StartRegistry(t)
	ctx := context.Background()
	repo, err := remote.NewRepository(reg.Host + "/evil/profile")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	blob := func(mediaType string, b []byte) ocispec.Descriptor {
		d := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(b), Size: int64(len(b))}
		if err := repo.Push(ctx, d, bytes.NewReader(b)); err != nil && !strings.Contains(err.Error(), "already exists") {
			t.Fatal(err)
		}
		return d
	}
	profile := blob(layerMediaType, []byte(`{"defaultAction": "SCMP_ACT_ALLOW"}`))
	seccomp := blob(MediaTypeSeccompProfile, emptyConfig)
	for _, tc := range []struct {
		name   string
		config ocispec.Descriptor
		layers []ocispec.Descriptor
		want   string
	}{
		{"image", blob(ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)), []ocispec.Descriptor{profile}, "not a seccomp profile artifact"},
		{"two-layers", seccomp, []ocispec.Descriptor{profile, blob(layerMediaType, []byte(`{"defaultAction": "SCMP_ACT_LOG"}`))}, "has 2 layers"},
		{"large", seccomp, []ocispec.Descriptor{blob(layerMediaType, bytes.Repeat([]byte(" "), MaxProfileSize+1))}, "over the 1048576 runtimes accept"},
		{"not-seccomp", seccomp, []ocispec.Descriptor{blob(layerMediaType, []byte(`{"kind": "Pod"}`))}, "not an OCI runtime-spec seccomp profile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: tc.config, Layers: tc.layers})
			d := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(m), Size: int64(len(m))}
			if err := repo.PushReference(ctx, d, bytes.NewReader(m), tc.name); err != nil {
				t.Fatal(err)
			}
			b, _, err := Pull(ctx, "oci://"+reg.Host+"/evil/profile:"+tc.name, Options{PlainHTTP: true})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("pull: %v (%d bytes), want an error saying %q", err, len(b), tc.want)
			}
		})
	}
}
