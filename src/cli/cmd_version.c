#include <stdio.h>

#include <curl/curl.h>
#include <expat.h>
#include <jansson.h>
#include <lmdb.h>
#include <openssl/crypto.h>
#include <yaml.h>

#include "cli/cli.h"

int plumb_cmd_version(struct plumb_cli *cli)
{
    const curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);

    (void)cli;
    printf("plumb %s\n", PLUMB_VERSION);
    printf("  libcurl %s, %s, jansson %s, libyaml %s, LMDB %d.%d.%d, %s\n", curl->version,
           OpenSSL_version(OPENSSL_VERSION), jansson_version_str(), yaml_get_version_string(),
           MDB_VERSION_MAJOR, MDB_VERSION_MINOR, MDB_VERSION_PATCH, XML_ExpatVersion());
    return PLUMB_EXIT_OK;
}
