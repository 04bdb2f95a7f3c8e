package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysrec/sysrec/internal/ocitest"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
	"github.com/sysrec/sysrec/recorder"
)

// userManager is a real systemd service manager (systemd --user, as
// root) in a private mount namespace and a cgroup of its own: systemd
// is not PID 1 here, so what PID 1 makes at boot (/run/systemd/system,
// which a user manager asks for, and the inaccessible nodes that
// ProtectHome= and InaccessiblePaths= mount) is made in that
// namespace's own /run/systemd.
type userManager struct {
	env []string
	pid int
}

const managerSetup = `set -e
echo $$ > "$SYSREC_CGROUP/cgroup.procs"
mount -t tmpfs tmpfs /run/systemd
mkdir /run/systemd/system /run/systemd/inaccessible
cd /run/systemd/inaccessible
mkdir -m 0 dir
install -m 0 /dev/null reg
mkfifo -m 0 fifo
mknod -m 0 chr c 0 0
mknod -m 0 blk b 0 0
cd /
exec "$SYSREC_SYSTEMD" --user`

// startUserManager starts it with units from config/systemd/user and
// waits (at most a minute) for its READY=1 on NOTIFY_SOCKET.
func startUserManager(t *testing.T, config string) *userManager {
	t.Helper()
	systemd := "/lib/systemd/systemd"
	if _, err := os.Stat(systemd); err != nil {
		systemd = testenv.RequireTool(t, "systemd")
	}
	testenv.RequireTool(t, "systemctl")
	testenv.RequireTool(t, "nsenter")
	mount, err := recorder.CgroupMount()
	if err != nil {
		t.Fatal(err)
	}
	cg, err := os.MkdirTemp(mount, "sysrec-systemd-")
	if err != nil {
		t.Fatal(err)
	}
	run, err := os.MkdirTemp("", "sysrec-sd-run")
	if err != nil {
		t.Fatal(err)
	}
	notify := filepath.Join(run, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notify, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	m := &userManager{env: []string{
		"XDG_RUNTIME_DIR=" + run, "XDG_CONFIG_HOME=" + config,
		// The manager's private socket speaks D-Bus: no bus daemon.
		"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(run, "systemd", "private"),
	}}
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "/bin/sh", "-c", managerSetup)
	cmd.Env = append(append(os.Environ(), m.env...), "NOTIFY_SOCKET="+notify, "SYSREC_CGROUP="+cg, "SYSREC_SYSTEMD="+systemd)
	log, err := os.Create(filepath.Join(run, "manager.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	m.pid = cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			t.Errorf("systemd --user did not stop within 30 s of SIGTERM: killed")
			syscall.Kill(-m.pid, syscall.SIGKILL)
			<-exited
		}
		log.Close()
		removeCgroupTree(cg)
		os.RemoveAll(run)
	})
	ready := make(chan bool, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				ready <- false
				return
			}
			if strings.Contains(string(buf[:n]), "READY=1") {
				ready <- true
				return
			}
		}
	}()
	select {
	case <-ready:
	case err := <-exited:
		b, _ := os.ReadFile(log.Name())
		t.Fatalf("systemd --user exited: %v\n%s", err, b)
	case <-time.After(time.Minute):
		t.Fatal("systemd --user sent no READY=1 within a minute")
	}
	return m
}

// removeCgroupTree removes cg and the cgroups the manager made in it,
// deepest first.
func removeCgroupTree(cg string) {
	var dirs []string
	filepath.WalkDir(cg, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i])
	}
}

// systemctl runs systemctl --user in the manager's mount namespace.
func (m *userManager) systemctl(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command("nsenter", append([]string{"-t", strconv.Itoa(m.pid), "-m", "systemctl", "--user", "--no-pager"}, args...)...)
	cmd.Env = append(os.Environ(), m.env...)
	return ocitest.Status(t, cmd)
}

// TestSystemdEnforce: the drop-in emit --format systemd writes for the
// profile of `target normal`, loaded by a real systemd manager, runs
// `target normal` as a service, and the same program making one call
// more (`target stray`: getpriority) is killed by SIGSYS; without the
// drop-in it runs.
func TestSystemdEnforce(t *testing.T) {
	testenv.RequireRoot(t)
	target := testtarget.Path(t)
	dir := t.TempDir()
	profile := filepath.Join(dir, "target.json")
	mustSysrec(t, "record", "--progress", "never", "-o", profile, "--", target, "normal")
	dropin := filepath.Join(dir, "sysrec.conf")
	mustSysrec(t, "emit", "--format", "systemd", "-o", dropin, profile, "--", target, "normal")
	b, err := os.ReadFile(dropin)
	if err != nil {
		t.Fatal(err)
	}
	units := filepath.Join(dir, "config", "systemd", "user")
	for _, u := range []struct {
		name, arg string
		dropin    bool
	}{{"normal", "normal", true}, {"stray", "stray", true}, {"unconfined", "stray", false}} {
		svc := filepath.Join(units, "sysrec-"+u.name+".service")
		if err := os.MkdirAll(svc+".d", 0o755); err != nil {
			t.Fatal(err)
		}
		unit := "[Service]\nType=oneshot\nExecStart=" + target + " " + u.arg + "\nStandardOutput=file:" + filepath.Join(dir, u.name+".out") + "\n"
		if err := os.WriteFile(svc, []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		if u.dropin {
			if err := os.WriteFile(filepath.Join(svc+".d", "sysrec.conf"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	m := startUserManager(t, filepath.Join(dir, "config"))
	status := func(name string) string {
		_, out := m.systemctl(t, "show", "sysrec-"+name+".service", "-p", "ExecMainCode", "-p", "ExecMainStatus", "-p", "DropInPaths")
		return strings.TrimSpace(out)
	}
	if code, out := m.systemctl(t, "start", "sysrec-normal.service"); code != 0 {
		t.Fatalf("target normal under its drop-in: exit %d\n%s\n%s\n%s", code, out, status("normal"), b)
	}
	if out, _ := os.ReadFile(filepath.Join(dir, "normal.out")); !strings.Contains(string(out), "hello from target") {
		t.Errorf("target normal under its drop-in wrote %q", out)
	}
	if s := status("normal"); !strings.Contains(s, "sysrec.conf") {
		t.Errorf("the drop-in was not loaded: %s", s)
	}
	// ExecMainCode 2 is CLD_KILLED; 31 is SIGSYS.
	if code, out := m.systemctl(t, "start", "sysrec-stray.service"); code == 0 || !strings.Contains(status("stray"), "ExecMainCode=2\nExecMainStatus=31") {
		t.Errorf("target stray under the drop-in: exit %d, %s\n%s", code, status("stray"), out)
	}
	if code, out := m.systemctl(t, "start", "sysrec-unconfined.service"); code != 0 {
		t.Errorf("target stray without the drop-in: exit %d %s\n%s", code, status("unconfined"), out)
	}
}
