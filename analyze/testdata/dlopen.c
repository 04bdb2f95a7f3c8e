// Loads a plugin chosen at run time: what it does is not visible.
#include <dlfcn.h>

int main(int argc, char **argv) {
	void *h = dlopen(argc > 1 ? argv[1] : "./plugin.so", RTLD_NOW);
	if (h == 0)
		return 1;
	long (*run)(void) = (long (*)(void))dlsym(h, "run");
	return run != 0 && run() == 0;
}
