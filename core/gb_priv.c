/*
 * gb_priv: give up root (or the capabilities a service was started with)
 * once the privileged work is done. See gb_priv.h.
 */
#include "core/gb_priv.h"

#include "core/gb_log.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int
gb_drop_privileges(const char *user)
{
	struct passwd *pw;

	if (getuid() != 0 && geteuid() != 0) {
		/*
		 * Started unprivileged with capabilities (systemd's
		 * AmbientCapabilities=CAP_NET_RAW): the capture is open, so
		 * give them all up.
		 */
		struct __user_cap_header_struct hdr = {
			_LINUX_CAPABILITY_VERSION_3, 0
		};
		struct __user_cap_data_struct data[2];

		memset(data, 0, sizeof(data));
		(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
		if (syscall(SYS_capset, &hdr, data) == -1) {
			gb_error("cannot drop capabilities: %s",
			    strerror(errno));
			return -1;
		}
		(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		return 0;
	}
	if (user == NULL)
		user = "nobody";
	if ((pw = getpwnam(user)) == NULL) {
		gb_error("user \"%s\" does not exist", user);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		gb_error("cannot drop privileges to %s: %s", user,
		    strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) != -1) {
		gb_error("privileges were not dropped");
		return -1;
	}
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}
