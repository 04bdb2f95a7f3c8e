// Package elfload reads what the dynamic loader reads: an ELF image (its
// sections, symbols, relocations, dynamic section, build ID and
// .eh_frame function ranges), /etc/ld.so.cache, and the search ld.so
// makes for a library (DT_RPATH, the library path, DT_RUNPATH, the
// cache, the default directories). Every read is bounded (MaxSymbols,
// MaxNeeded, MaxSearchDirs, MaxLookups) so that a hostile file costs
// bounded time and memory.
//
// It finds no syscalls and builds no call graph (see analyze); the
// instructions of an image are decoded by isa.
package elfload
