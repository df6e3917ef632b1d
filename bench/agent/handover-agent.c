/*
 * Stand-in agent for the init hand-over measurement (bench/run.mjs, boot
 * scenario). Installed as /bin/kestrel; the first thing it does is read the
 * clocks, then it leaves a line in the kernel log, prints what it read on the
 * console and powers the VM off.
 *
 *   CLOCK_BOOTTIME   nanoseconds; the clock /proc/uptime shows
 *   /proc/uptime     what the brief asks for; only 10 ms resolution
 *   /dev/kmsg line   stamped by printk's own clock, the one that stamped
 *                    "Run /init as init process"
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	struct timespec boot;
	char uptime[64] = "";
	const char marker[] = "<5>bench-agent: first instruction\n";

	clock_gettime(CLOCK_BOOTTIME, &boot);

	int fd = open("/proc/uptime", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, uptime, sizeof uptime - 1);
		uptime[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	uptime[strcspn(uptime, " \n")] = '\0';

	int kmsg = open("/dev/kmsg", O_WRONLY);
	if (kmsg < 0) {
		mknod("/dev/kmsg", S_IFCHR | 0600, makedev(1, 11));
		kmsg = open("/dev/kmsg", O_WRONLY);
	}
	if (kmsg >= 0) {
		(void)!write(kmsg, marker, sizeof marker - 1);
		close(kmsg);
	}

	printf("BENCH-AGENT pid=%d uptime=%s boottime=%lld.%09ld\n", (int)getpid(), uptime,
	       (long long)boot.tv_sec, boot.tv_nsec);
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
