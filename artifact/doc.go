// Package artifact pushes profiles to an OCI registry as seccomp profile
// artifacts and pulls them back, in the format container runtimes read
// (KEP-6061; CRI-O since v1.30, security-profiles-operator's spoc push):
// a manifest whose artifactType and config media type are
// application/vnd.cncf.seccomp-profile.config.v1+json, the config blob
// "{}", and exactly one application/json layer, profile.json, holding
// the OCI runtime-spec seccomp JSON that emit.OCI writes. A profile for
// several machines (x86_64 and aarch64) becomes an image index with one
// such manifest per platform, so a runtime pulls its own.
//
// Manifests are written here, byte for byte, without timestamps: the
// same profile pushed twice has the same digest, which is what a
// reference pins. The registry client is oras-go.
//
// It is not for the sysrec profile itself (runtimes take one layer of
// runtime-spec JSON), nor for signing.
package artifact
