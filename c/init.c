/*
 * fledge-action's PID 1 for default and custom-path init modes.
 *
 * It lives for a fraction of a millisecond: mount the pseudo filesystems,
 * give itself a console, then exec the custom init named in /.volant_init
 * or the agent at /bin/kestrel. It never waits for block devices (an
 * initramfs VM has none to wait for) and never returns: if PID 1 exits the
 * kernel panics, so on a fatal error it says why and powers the VM off.
 */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

extern char **environ;

#define AGENT_PATH "/bin/kestrel"
#define CUSTOM_INIT_POINTER "/.volant_init"

static void say(const char *a, const char *b, const char *c)
{
	const char *parts[] = { a, b, c };
	for (unsigned i = 0; i < 3; i++)
		if (parts[i])
			(void)!write(2, parts[i], strlen(parts[i]));
	(void)!write(2, "\n", 1);
}

static void __attribute__((noreturn)) panic(const char *what, const char *path)
{
	say("INIT PANIC: ", what, path);
	say("INIT PANIC: ", strerror(errno), NULL);
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static void mount_fs(const char *source, const char *target, const char *type,
		     unsigned long flags, const char *data)
{
	mkdir(target, 0755);
	/* EBUSY: the kernel (CONFIG_DEVTMPFS_MOUNT) or a previous stage mounted it. */
	if (mount(source, target, type, flags, data) != 0 && errno != EBUSY)
		say("init: warning: cannot mount ", target, strerror(errno));
}

static void open_console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0) {
		mknod("/dev/console", S_IFCHR | 0600, makedev(5, 1));
		fd = open("/dev/console", O_RDWR | O_NOCTTY);
	}
	if (fd < 0)
		return; /* keep whatever the kernel gave us */
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

/* Reads the first line of /.volant_init into buf; returns 0 when absent. */
static int read_custom_init(char *buf, size_t size)
{
	int fd = open(CUSTOM_INIT_POINTER, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf[0] != '\0';
}

int main(int argc, char **argv)
{
	(void)argc;
	const unsigned long nodev = MS_NOSUID | MS_NOEXEC | MS_NODEV;

	mount_fs("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	open_console();
	mount_fs("proc", "/proc", "proc", nodev, NULL);
	mount_fs("sysfs", "/sys", "sysfs", nodev, NULL);
	mount_fs("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_fs("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");

	/* The kernel starts init with HOME and TERM only; the agent and shells need a PATH. */
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 0);
	char custom[4096];
	const char *target = read_custom_init(custom, sizeof custom) ? custom : AGENT_PATH;
	argv[0] = (char *)target;
	execve(target, argv, environ);
	panic("cannot start ", target);
}
