/* gb_version: program and library versions. See gb_version.h. */
#include "core/gb_version.h"
#include "gb_config.h"

#include <lmdb.h>
#include <maxminddb.h>
#include <openssl/crypto.h>
#include <pcap/pcap.h>
#include <yaml.h>
#include <zlib.h>
#ifdef GB_HAVE_ISAL
#include <isa-l.h>
#endif

const char *
gb_version(void)
{
	return GB_VERSION;
}

void
gb_version_print(FILE *fp, const char *prog)
{
	fprintf(fp, "%s %s\n", prog, GB_VERSION);
	fprintf(fp, "  openssl      %s\n", OpenSSL_version(OPENSSL_VERSION));
	fprintf(fp, "  libpcap      %s\n", pcap_lib_version());
	fprintf(fp, "  lmdb         %s\n", mdb_version(NULL, NULL, NULL));
	fprintf(fp, "  libyaml      %s\n", yaml_get_version_string());
	fprintf(fp, "  libmaxminddb %s\n", MMDB_lib_version());
	fprintf(fp, "  zlib         %s\n", zlibVersion());
#ifdef GB_HAVE_ISAL
	fprintf(fp, "  isa-l        %d.%d.%d (built with; inflates bodies)\n",
	    ISAL_MAJOR_VERSION, ISAL_MINOR_VERSION, ISAL_PATCH_VERSION);
#endif
}
