/*
 * gb_priv: dropping privileges, for every program that starts with some:
 * bind, load keys, open the capture, then call gb_drop_privileges().
 *
 * Started as root: setgroups, setresgid and setresuid to user (NULL:
 * "nobody"), a check that root cannot be regained, then no-new-privileges
 * and not dumpable. Started unprivileged with capabilities (systemd's
 * AmbientCapabilities): every capability is given up (ambient, effective,
 * permitted), then no-new-privileges. Errors are logged. Returns 0 or -1.
 */
#ifndef GB_PRIV_H
#define GB_PRIV_H

int	gb_drop_privileges(const char *user);

#endif /* GB_PRIV_H */
