package ocitest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sysrec/sysrec/internal/testenv"
)

// Registry is a private distribution registry (Debian docker-registry)
// on 127.0.0.1, plain HTTP, no auth, its storage in a temporary
// directory.
type Registry struct {
	Host string // 127.0.0.1:PORT
}

// StartRegistry starts docker-registry and waits (at most a minute)
// until /v2/ answers. Cleanup stops it.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	bin := testenv.RequireTool(t, "docker-registry")
	dir := t.TempDir()
	// A free port: taken from the kernel, then handed to the registry.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := l.Addr().String()
	l.Close()
	config := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n",
		filepath.Join(dir, "data"), host)
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		daemonFailed(t, "docker-registry", fmt.Sprintf("start: %v", err), "")
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		stopDaemon(t, cmd, exited)
		logf.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := waitHTTP(ctx, http.DefaultClient, "http://"+host+"/v2/", exited); err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
		daemonFailed(t, "docker-registry", err.Error(), string(b))
	}
	return &Registry{Host: host}
}
