// Linked with a library found through DT_RUNPATH $ORIGIN/lib.
long run(void);

int main(void) { return run() == 0; }
