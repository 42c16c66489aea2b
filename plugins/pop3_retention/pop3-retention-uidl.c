/* pop3-retention-uidl.c: the UIDL a POP3 client sees for a message, for
 * `doveadm pop3-retention status`, computed the way stock pop3 does: the
 * saved UIDL (pop3_save_uidl, a migration) when there is one, else
 * pop3_uidl_format expanded with the message's uid, uidvalidity, header
 * MD5, file name and GUID.  pop3_reuse_xuidl is a pop3-only setting that
 * doveadm cannot see: with it, status shows the format's UIDL. */

#include "lib.h"
#include "str.h"
#include "var-expand.h"
#include "pop3-retention-private.h"

static const char *pop3_retention_special(struct mail *mail,
					  enum mail_fetch_field field,
					  const char *format, const char *key23,
					  const char *key24)
{
	const char *value;

	/* 2.3 also takes the long form, %{md5} */
	if (strstr(format, key24) == NULL &&
	    (MP_DOVECOT_24 || strstr(format, key23) == NULL))
		return "";
	if (mail_get_special(mail, field, &value) < 0)
		return "";
	return value;
}

const char *pop3_retention_uidl(struct mail *mail, uint32_t uid_validity)
{
	const struct mail_storage_settings *set =
		mail_storage_get_settings(mail->box->storage);
	const char *format = set->pop3_uidl_format;
	const char *uidl, *md5, *filename, *guid, *error;
	string_t *str = t_str_new(64);

	if (mail_get_special(mail, MAIL_FETCH_UIDL_BACKEND, &uidl) == 0 &&
	    *uidl != '\0')
		return uidl;
	md5 = pop3_retention_special(mail, MAIL_FETCH_HEADER_MD5, format,
				     "%m", "md5");
	filename = pop3_retention_special(mail, MAIL_FETCH_STORAGE_ID, format,
					  "%f", "filename");
	guid = pop3_retention_special(mail, MAIL_FETCH_GUID, format,
				      "%g", "guid");
#if MP_DOVECOT_24
	const struct var_expand_params params = {
		.table = (const struct var_expand_table[]) {
			{ .key = "uidvalidity", .value = dec2str(uid_validity) },
			{ .key = "uid", .value = dec2str(mail->uid) },
			{ .key = "md5", .value = md5 },
			{ .key = "filename", .value = filename },
			{ .key = "guid", .value = guid },
			VAR_EXPAND_TABLE_END
		},
	};
	if (var_expand(str, format, &params, &error) < 0)
		return "";
#else
	const struct var_expand_table tab[] = {
		{ 'v', dec2str(uid_validity), "uidvalidity" },
		{ 'u', dec2str(mail->uid), "uid" },
		{ 'm', md5, "md5" },
		{ 'f', filename, "filename" },
		{ 'g', guid, "guid" },
		{ '\0', NULL, NULL }
	};
	if (var_expand(str, format, tab, &error) <= 0)
		return "";
#endif
	return str_c(str);
}
