package analyze

import "github.com/sysrec/sysrec/internal/regularfile"

// ErrNotRegular is returned for an analysed file (a binary, a library, a
// script, an interpreter, ld.so.cache, nsswitch.conf) that is not a
// regular file: a FIFO or a device would block the analysis or feed it
// without end.
var ErrNotRegular = regularfile.ErrNotRegular

// Bounds on what one analysis reads, far above real files (the largest
// program on the development machine is a 707 MB Go binary; the most
// DT_NEEDED entries a Debian file has is 21, RPATH/RUNPATH directories 2,
// symbols 259 k in .symtab and 171 k in .dynsym), so that a hostile file
// costs bounded time and memory. The bounds on one ELF file and on the
// library search are elfload's.
const (
	maxELFSize     = 1 << 30  // bytes of one ELF file
	maxConfigSize  = 64 << 20 // ld.so.cache, nsswitch.conf
	maxModules     = 4096     // files loaded for one program
	maxScriptLine  = 256      // the kernel reads this much of a "#!" line (BINPRM_BUF_SIZE)
	maxInterpChain = 4        // "#!" interpreters that are scripts themselves
)
