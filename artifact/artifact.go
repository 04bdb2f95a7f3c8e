package artifact

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/profiles"
)

const (
	// MediaTypeSeccompProfile is the artifact type and config media type
	// of a seccomp profile artifact (CRI-O's requiredConfigMediaType,
	// SPO's MediaTypeSeccompProfile).
	MediaTypeSeccompProfile = "application/vnd.cncf.seccomp-profile.config.v1+json"
	// layerMediaType and layerTitle are SPO's for the profile's layer.
	layerMediaType = "application/json"
	layerTitle     = "profile.json"
	// MaxProfileSize is the layer size runtimes accept by default (SPO's
	// maxProfileSize); a pull refuses a larger layer before reading it.
	MaxProfileSize = 1 << 20
	// maxManifestSize bounds a manifest or index read on pull.
	maxManifestSize = 4 << 20
)

// emptyConfig is the config blob: the media type alone says what the
// artifact is.
var emptyConfig = []byte("{}")

// platforms are the OCI platform architectures (GOARCH) of the
// profile's arches.
var platforms = map[string]string{
	"x86_64": "amd64", "i386": "386", "aarch64": "arm64", "arm": "arm", "riscv64": "riscv64",
}

// Options say how to reach the registry and what to push.
type Options struct {
	// PlainHTTP talks HTTP instead of HTTPS (a registry on loopback
	// without TLS).
	PlainHTTP bool
	// ContainerSetup is emit.Options.ContainerSetup for the OCI JSON pushed.
	ContainerSetup string
	// Platform is the architecture (GOARCH, or a profile arch name) a
	// pull takes from a multi-platform artifact; "" is this machine's.
	Platform string
}

// Pushed is what Push wrote.
type Pushed struct {
	// Ref is the pushed reference pinned by digest: REGISTRY/NAME@DIGEST.
	Ref    string
	Digest string
	// Platforms are the architectures it holds (one manifest each).
	Platforms []string
}

// ParseRef parses oci://REGISTRY/NAME:TAG (or @DIGEST); the oci://
// prefix is optional.
func ParseRef(ref string) (registry.Reference, error) {
	r, err := registry.ParseReference(strings.TrimPrefix(ref, "oci://"))
	if err != nil {
		return r, fmt.Errorf("parse reference %q: %w", ref, err)
	}
	if r.Reference == "" {
		return r, fmt.Errorf("reference %q names no tag or digest", ref)
	}
	return r, nil
}

// Manifests returns the blobs and manifests Push would write for p: one
// (platform, OCI JSON layer) per machine the profile's arches are for.
// An arch goes with the one whose other ABI it is (i386 with x86_64).
func Manifests(p *profiles.Profile, o Options) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, a := range p.Arch {
		if slices.ContainsFunc(p.Arch, func(b string) bool { return compatOf(b) == a }) {
			continue
		}
		group := []string{a}
		if c := compatOf(a); c != "" && slices.Contains(p.Arch, c) {
			group = append(group, c)
		}
		sub := p.Clone()
		sub.Arch = group
		sub.Syscalls = slices.DeleteFunc(sub.Syscalls, func(s profiles.Syscall) bool {
			return s.Arch != "" && !slices.Contains(group, s.Arch)
		})
		if len(group) == 1 {
			for i := range sub.Syscalls {
				sub.Syscalls[i].Arch = ""
			}
		}
		b, err := emit.OCI(sub, emit.Options{ContainerSetup: o.ContainerSetup})
		if err != nil {
			return nil, fmt.Errorf("emit the %s profile: %w", a, err)
		}
		if len(b) > MaxProfileSize {
			return nil, fmt.Errorf("the %s profile is %d bytes, over the %d runtimes accept", a, len(b), MaxProfileSize)
		}
		out[platforms[a]] = b
	}
	return out, nil
}

func compatOf(arch string) string {
	switch arch {
	case "x86_64":
		return "i386"
	case "aarch64":
		return "arm"
	}
	return ""
}

// Push pushes p to ref as a seccomp profile artifact: one manifest, or an
// index of one per platform when p is for several machines.
func Push(ctx context.Context, p *profiles.Profile, ref string, o Options) (*Pushed, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	if r.ValidateReferenceAsDigest() == nil {
		return nil, fmt.Errorf("push to %s: give a tag, not a digest", ref)
	}
	layers, err := Manifests(p, o)
	if err != nil {
		return nil, err
	}
	repo, err := repository(r, o)
	if err != nil {
		return nil, err
	}
	config := ocispec.Descriptor{MediaType: MediaTypeSeccompProfile, Digest: digest.FromBytes(emptyConfig), Size: int64(len(emptyConfig))}
	if err := pushBlob(ctx, repo, config, emptyConfig); err != nil {
		return nil, err
	}
	var index ocispec.Index
	archs := slices.Sorted(maps.Keys(layers))
	for _, arch := range archs {
		layer := layers[arch]
		ld := ocispec.Descriptor{
			MediaType:   layerMediaType,
			Digest:      digest.FromBytes(layer),
			Size:        int64(len(layer)),
			Annotations: map[string]string{ocispec.AnnotationTitle: layerTitle},
		}
		if err := pushBlob(ctx, repo, ld, layer); err != nil {
			return nil, err
		}
		m, err := json.Marshal(ocispec.Manifest{
			Versioned:    specs.Versioned{SchemaVersion: 2},
			MediaType:    ocispec.MediaTypeImageManifest,
			ArtifactType: MediaTypeSeccompProfile,
			Config:       config,
			Layers:       []ocispec.Descriptor{ld},
		})
		if err != nil {
			return nil, err
		}
		md := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(m), Size: int64(len(m)),
			ArtifactType: MediaTypeSeccompProfile, Platform: &ocispec.Platform{OS: "linux", Architecture: arch}}
		if len(layers) == 1 {
			md.Platform, md.ArtifactType = nil, ""
			if err := repo.PushReference(ctx, md, bytes.NewReader(m), r.Reference); err != nil {
				return nil, fmt.Errorf("push manifest to %s: %w", ref, err)
			}
			return pushed(r, md, archs), nil
		}
		if err := pushBlob(ctx, repo, md, m); err != nil {
			return nil, err
		}
		index.Manifests = append(index.Manifests, md)
	}
	index.Versioned = specs.Versioned{SchemaVersion: 2}
	index.MediaType = ocispec.MediaTypeImageIndex
	index.ArtifactType = MediaTypeSeccompProfile
	b, err := json.Marshal(index)
	if err != nil {
		return nil, err
	}
	id := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: digest.FromBytes(b), Size: int64(len(b))}
	if err := repo.PushReference(ctx, id, bytes.NewReader(b), r.Reference); err != nil {
		return nil, fmt.Errorf("push index to %s: %w", ref, err)
	}
	return pushed(r, id, archs), nil
}

func pushed(r registry.Reference, d ocispec.Descriptor, archs []string) *Pushed {
	return &Pushed{Ref: fmt.Sprintf("%s/%s@%s", r.Registry, r.Repository, d.Digest), Digest: d.Digest.String(), Platforms: archs}
}

// pushBlob pushes b unless the registry has it.
func pushBlob(ctx context.Context, repo *remote.Repository, d ocispec.Descriptor, b []byte) error {
	if ok, err := repo.Exists(ctx, d); err == nil && ok {
		return nil
	}
	if err := repo.Push(ctx, d, bytes.NewReader(b)); err != nil {
		return fmt.Errorf("push blob %s: %w", d.Digest, err)
	}
	return nil
}

// Pull fetches the profile layer of the seccomp profile artifact at ref
// (the OCI runtime-spec JSON Push wrote, byte for byte), choosing the
// manifest of o.Platform in an index, and returns it with the digest
// ref resolved to.
func Pull(ctx context.Context, ref string, o Options) ([]byte, string, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return nil, "", err
	}
	repo, err := repository(r, o)
	if err != nil {
		return nil, "", err
	}
	top, err := repo.Resolve(ctx, r.Reference)
	if err != nil {
		return nil, "", fmt.Errorf("resolve %s: %w", ref, err)
	}
	md := top
	if top.MediaType == ocispec.MediaTypeImageIndex {
		var index ocispec.Index
		if err := fetchJSON(ctx, repo, top, &index); err != nil {
			return nil, "", err
		}
		want := o.Platform
		if want == "" {
			want = runtime.GOARCH
		}
		if p, ok := platforms[want]; ok {
			want = p
		}
		i := slices.IndexFunc(index.Manifests, func(d ocispec.Descriptor) bool {
			return d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == want
		})
		if i < 0 {
			var have []string
			for _, d := range index.Manifests {
				if d.Platform != nil {
					have = append(have, d.Platform.Architecture)
				}
			}
			return nil, "", fmt.Errorf("%s has no profile for linux/%s (it has %s)", ref, want, strings.Join(have, ", "))
		}
		md = index.Manifests[i]
	}
	if md.MediaType != ocispec.MediaTypeImageManifest {
		return nil, "", fmt.Errorf("%s is a %s, not an OCI manifest or index", ref, md.MediaType)
	}
	var m ocispec.Manifest
	if err := fetchJSON(ctx, repo, md, &m); err != nil {
		return nil, "", err
	}
	if m.Config.MediaType != MediaTypeSeccompProfile {
		return nil, "", fmt.Errorf("%s is not a seccomp profile artifact (config media type %q, want %s)", ref, m.Config.MediaType, MediaTypeSeccompProfile)
	}
	if len(m.Layers) != 1 {
		return nil, "", fmt.Errorf("%s has %d layers, want exactly one", ref, len(m.Layers))
	}
	layer := m.Layers[0]
	if layer.Size < 0 || layer.Size > MaxProfileSize {
		return nil, "", fmt.Errorf("%s: its profile is %d bytes, over the %d runtimes accept", ref, layer.Size, MaxProfileSize)
	}
	b, err := content.FetchAll(ctx, repo, layer)
	if err != nil {
		return nil, "", fmt.Errorf("fetch the profile of %s: %w", ref, err)
	}
	var probe struct {
		DefaultAction string `json:"defaultAction"`
	}
	if err := json.Unmarshal(b, &probe); err != nil || probe.DefaultAction == "" {
		return nil, "", fmt.Errorf("%s: its layer is not an OCI runtime-spec seccomp profile (no defaultAction)", ref)
	}
	return b, top.Digest.String(), nil
}

func fetchJSON(ctx context.Context, repo *remote.Repository, d ocispec.Descriptor, v any) error {
	if d.Size < 0 || d.Size > maxManifestSize {
		return fmt.Errorf("manifest %s of %d bytes is over %d", d.Digest, d.Size, maxManifestSize)
	}
	b, err := content.FetchAll(ctx, repo, d)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", d.Digest, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read manifest %s: %w", d.Digest, err)
	}
	return nil
}

// repository is r's repository, with the credentials of the Docker
// configuration (docker login, $DOCKER_CONFIG).
func repository(r registry.Reference, o Options) (*remote.Repository, error) {
	repo, err := remote.NewRepository(r.Registry + "/" + r.Repository)
	if err != nil {
		return nil, err
	}
	repo.PlainHTTP = o.PlainHTTP
	client := &auth.Client{Client: retry.DefaultClient, Cache: auth.NewCache()}
	store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
	if err != nil {
		return nil, fmt.Errorf("read the Docker credentials: %w", err)
	}
	client.Credential = credentials.Credential(store)
	client.SetUserAgent("sysrec")
	repo.Client = client
	return repo, nil
}
