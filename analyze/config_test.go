package analyze

import (
	"debug/elf"
	"encoding/binary"
	"github.com/sysrec/sysrec/analyze/elfload"
	"os"
	"reflect"
	"slices"
	"testing"
)

func TestParseNSSwitch(t *testing.T) {
	got := parseNSSwitch([]byte(`# comment
passwd:         files systemd
group:          files [SUCCESS=merge] systemd # trailing
hosts:          files mdns4_minimal [NOTFOUND=return] dns
netgroup:       nis
bad line
`))
	want := map[string][]string{
		"passwd":   {"files", "systemd"},
		"group":    {"files", "systemd"},
		"hosts":    {"files", "mdns4_minimal", "dns"},
		"netgroup": {"nis"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// ldCacheFile builds a new-format ld.so.cache.
func ldCacheFile(entries [][3]any) []byte {
	var strs []byte
	hdr := 48 + 24*len(entries)
	var body []byte
	for _, e := range entries {
		key := uint32(hdr + len(strs))
		strs = append(append(strs, e[0].(string)...), 0)
		val := uint32(hdr + len(strs))
		strs = append(append(strs, e[1].(string)...), 0)
		body = binary.LittleEndian.AppendUint32(body, uint32(e[2].(int)))
		body = binary.LittleEndian.AppendUint32(body, key)
		body = binary.LittleEndian.AppendUint32(body, val)
		body = binary.LittleEndian.AppendUint32(body, 0)
		body = binary.LittleEndian.AppendUint64(body, 0)
	}
	b := []byte(elfload.LDCacheNewMagic)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(entries)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(strs)))
	b = append(b, make([]byte, 20)...) // flags, padding, extension offset, unused
	return append(append(b, body...), strs...)
}

func TestParseLDCache(t *testing.T) {
	b := ldCacheFile([][3]any{
		{"libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1", 0x0303},
		{"libz.so.1", "/usr/lib32/libz.so.1", 0x0003}, // i386
		{"libfoo.so", "/lib/aarch64-linux-gnu/libfoo.so", 0x0a03},
	})
	c, err := elfload.ParseLDCache(b, elf.EM_X86_64)
	if err != nil {
		t.Fatal(err)
	}
	want := elfload.LDCache{"libz.so.1": {"/lib/x86_64-linux-gnu/libz.so.1"}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %v, want %v", c, want)
	}
	if _, err := elfload.ParseLDCache(b[:60], elf.EM_X86_64); err == nil {
		t.Error("a truncated cache parsed")
	}
	if _, err := elfload.ParseLDCache([]byte("garbage"), elf.EM_X86_64); err == nil {
		t.Error("garbage parsed")
	}
}

// The machine's own cache knows libc.
func TestParseLDCacheSystem(t *testing.T) {
	requireAMD64(t)
	b, err := os.ReadFile("/etc/ld.so.cache")
	if err != nil {
		t.Skip(err)
	}
	c, err := elfload.ParseLDCache(b, elf.EM_X86_64)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(c["libc.so.6"], func(p string) bool { _, err := os.Stat(p); return err == nil }) {
		t.Errorf("libc.so.6 → %v", c["libc.so.6"])
	}
}
