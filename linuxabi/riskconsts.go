package linuxabi

// riskConsts names the values the risk classes of argTable mention that
// consts.go does not, so show and diff print them by name (TIOCSTI, not
// 21522).
var riskConsts = map[string][]symbol{
	"ioctl": {{"FIGETBSZ", 0x2}, {"TIOCOUTQ", 0x5411}, {"TIOCSTI", 0x5412}, {"TIOCCONS", 0x541d},
		{"TIOCSETD", 0x5423}, {"TIOCGETD", 0x5424}, {"TIOCGSID", 0x5429}, {"TCGETS2", 0x802c542a},
		{"FS_IOC_GETFLAGS", 0x80086601}, {"FICLONE", 0x40049409}},
	"fcntl": {{"F_SETOWN_EX", 15}, {"F_GETOWN_EX", 16}, {"F_GET_RW_HINT", 1035}, {"F_SET_RW_HINT", 1036},
		{"F_GET_FILE_RW_HINT", 1037}, {"F_SET_FILE_RW_HINT", 1038}},
	"prctl": {{"PR_GET_SECUREBITS", 27}, {"PR_SET_SECUREBITS", 28}, {"PR_GET_TIMERSLACK", 30}, {"PR_SET_MM", 35},
		{"PR_GET_CHILD_SUBREAPER", 37}, {"PR_GET_TID_ADDRESS", 40}, {"PR_SET_THP_DISABLE", 41},
		{"PR_GET_THP_DISABLE", 42}, {"PR_GET_SPECULATION_CTRL", 52}, {"PR_SET_MDWE", 65}, {"PR_GET_MDWE", 66},
		{"PR_SET_PTRACER", 0x59616d61}},
	"mode": {{"S_IXOTH", 0o1}, {"S_IWOTH", 0o2}, {"S_IROTH", 0o4}, {"S_IXGRP", 0o10}, {"S_IWGRP", 0o20}, {"S_IRGRP", 0o40},
		{"S_IXUSR", 0o100}, {"S_IWUSR", 0o200}, {"S_IRUSR", 0o400}, {"S_ISVTX", 0o1000}, {"S_ISGID", 0o2000}, {"S_ISUID", 0o4000}},
	"arch_prctl": {{"ARCH_GET_XCOMP_GUEST_PERM", 0x1024}, {"ARCH_REQ_XCOMP_GUEST_PERM", 0x1025}, {"ARCH_MAP_VDSO_X32", 0x2001},
		{"ARCH_MAP_VDSO_32", 0x2002}, {"ARCH_MAP_VDSO_64", 0x2003}, {"ARCH_GET_UNTAG_MASK", 0x4001},
		{"ARCH_ENABLE_TAGGED_ADDR", 0x4002}, {"ARCH_GET_MAX_TAG_BITS", 0x4003}, {"ARCH_FORCE_TAGGED_SVA", 0x4004},
		{"ARCH_SHSTK_DISABLE", 0x5002}, {"ARCH_SHSTK_LOCK", 0x5003}, {"ARCH_SHSTK_UNLOCK", 0x5004}},
	"madv": {{"MADV_HWPOISON", 100}, {"MADV_SOFT_OFFLINE", 101}, {"MADV_GUARD_INSTALL", 102}, {"MADV_GUARD_REMOVE", 103}},
}

func init() {
	for set, syms := range riskConsts {
		consts[set] = append(consts[set], syms...)
	}
}
