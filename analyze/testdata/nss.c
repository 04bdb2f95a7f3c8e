// getpwnam consults the passwd NSS database: libc dlopens the modules
// nsswitch.conf names.
#include <pwd.h>

int main(void) { return getpwnam("root") == 0; }
