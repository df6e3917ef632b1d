/* The example's workload, linked statically: it needs nothing from the image but itself. */
#include <stdio.h>
#include <sys/reboot.h>
#include <unistd.h>

int main(void) {
    printf("fledge-example: hello from the container image (PID %d)\n", (int)getpid());
    fflush(stdout);
    sync();
    /* Started by the C init as PID 1: power the VM off instead of returning (the kernel would panic). */
    reboot(RB_POWER_OFF);
    return 0;
}
