/* policy-listfile.c: files of words read with the policy: list files
 * (`allowed_clients = file:/etc/mailpolicy/clients.cidr`, like Postfix's
 * cidr tables) and sender maps.  A relative path starts at the policy
 * file's directory (policy_include_path()).
 *
 * A provider's allowed_clients can be thousands of networks, more than a
 * line of mailpolicy.conf holds; a list value may therefore name files
 * whose words stand in its place.  Such files load with the policy,
 * whole or not at all: a bad word in one is reported as
 * "FILE:LINE:COL: reason" of that file and the load fails, and every
 * file read is part of the policy's staleness (policy-files.c).
 *
 * The syntax is deliberately smaller than the policy file's: words
 * separated by blanks, '#' at the start of a word begins a comment to
 * the end of the line, no quoting, no `file:` inside (no nesting).  A
 * UTF-8 byte order mark at the start is skipped, as in the policy file:
 * left in, it would become part of the first login of a map, which then
 * never matches. */

#include <string.h>

#include "policy-private.h"
#include "utf8.h"

void policy_wordfile_free(const struct mp_env *env, struct policy_wordfile *wf)
{
	env->free(env->ctx, wf->buf);
	env->free(env->ctx, wf->words);
	memset(wf, 0, sizeof(*wf));
}

/* Splits wf->buf[pos..size) into words, in place. */
static int wordfile_split(const struct mp_env *env, struct policy_errctx *ctx,
			  const char *path, size_t pos, size_t size,
			  struct policy_wordfile *wf)
{
	char *buf = wf->buf, *line, *nl;
	size_t len, i, start, cap = 0, bad;
	unsigned int lineno = 0;
	struct policy_token *word, *grown;

	while (pos < size) {
		lineno++;
		line = buf + pos;
		nl = memchr(line, '\n', size - pos);
		len = nl == NULL ? size - pos : (size_t)(nl - line);
		pos += nl == NULL ? len : len + 1;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len > MP_POLICY_MAX_LINE) {
			return policy_error(ctx, lineno, MP_POLICY_MAX_LINE + 1,
					    "line too long (limit %u bytes)",
					    MP_POLICY_MAX_LINE);
		}
		for (i = 0; i < len; ) {
			unsigned char c = (unsigned char)line[i];

			if (c == ' ' || c == '\t') {
				i++;
				continue;
			}
			if (c == '#')
				break;		/* a comment */
			start = i;
			while (i < len && line[i] != ' ' && line[i] != '\t') {
				c = (unsigned char)line[i];
				if (c < 0x20 || c == 0x7f) {
					return policy_error(ctx, lineno,
						(unsigned int)i + 1,
						c == 0 ? "NUL byte" :
						c == '\r' ? "carriage return "
						"without a line feed (save the "
						"file with LF line endings)" :
						"control character not allowed");
				}
				if (c == '#') {
					return policy_error(ctx, lineno,
						(unsigned int)i + 1,
						"'#' inside a word (a comment "
						"starts after a blank)");
				}
				i++;
			}
			bad = mp_utf8_invalid_offset(line + start, i - start);
			if (bad != i - start) {
				return policy_error(ctx, lineno,
						    (unsigned int)(start + bad) + 1,
						    "invalid UTF-8");
			}
			if (wf->count == cap) {
				size_t new_cap = cap == 0 ? 64 : cap * 2;

				grown = env->realloc(env->ctx, wf->words,
						     cap * sizeof(*grown),
						     new_cap * sizeof(*grown));
				if (grown == NULL)
					return policy_error_oom(ctx);
				wf->words = grown;
				cap = new_cap;
			}
			word = &wf->words[wf->count++];
			memset(word, 0, sizeof(*word));
			word->type = POLICY_TOKEN_WORD;
			word->file = path;
			word->line = lineno;
			word->col = (unsigned int)start + 1;
			word->raw_len = (unsigned int)(i - start);
			word->str = line + start;
			word->len = i - start;
			/* over the blank, the CR or LF, or the spare byte
			   past a last line without one */
			line[i] = '\0';
			if (i < len)
				i++;
		}
	}
	return 0;
}

int policy_wordfile_read(const struct mp_env *env, struct policy_errctx *ctx,
			 const char *path, struct policy_files *files,
			 struct policy_wordfile *wf)
{
	struct policy_errctx file_ctx = { .name = path, .error = ctx->error };
	char *data, *nul;
	size_t size, start = 0;

	memset(wf, 0, sizeof(*wf));
	if (policy_read_file(env, &file_ctx, path, MP_POLICY_MAX_FILE_SIZE,
			     files, &data, &size) < 0)
		return -1;
	/* policy_read_file() allocated one byte more than the file: room
	   for the NUL after a last word without a newline. */
	wf->buf = data;
	if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		start = 3;
	nul = memchr(data + start, '\0', size - start);
	if (nul != NULL) {
		size_t at = (size_t)(nul - data);
		unsigned int line = 1, col = 1;
		size_t i;

		for (i = start; i < at; i++) {
			if (data[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		policy_wordfile_free(env, wf);
		return policy_error(&file_ctx, line, col, "NUL byte");
	}
	if (wordfile_split(env, &file_ctx, path, start, size, wf) < 0) {
		policy_wordfile_free(env, wf);
		return -1;
	}
	return 0;
}

void policy_list_free(const struct mp_env *env, struct policy_list *list)
{
	size_t i;

	for (i = 0; i < list->file_count; i++)
		policy_wordfile_free(env, &list->files[i]);
	env->free(env->ctx, list->files);
	env->free(env->ctx, list->owned);
	memset(list, 0, sizeof(*list));
}

static bool is_file_word(const struct policy_token *word)
{
	return word->type == POLICY_TOKEN_WORD &&
		strncmp(word->str, POLICY_LIST_FILE_PREFIX,
			strlen(POLICY_LIST_FILE_PREFIX)) == 0;
}

int policy_list_expand(struct mp_policy *policy, struct policy_errctx *ctx,
		       const struct policy_token *key,
		       const struct policy_token *values, size_t count,
		       struct policy_list *list)
{
	const struct mp_env *env = policy->env;
	size_t i, j, files = 0, total = 0, n = 0, f = 0;
	const char *path;

	memset(list, 0, sizeof(*list));
	list->words = values;
	list->count = count;
	for (i = 0; i < count; i++)
		files += is_file_word(&values[i]) ? 1 : 0;
	if (files == 0)
		return 0;

	list->files = env->alloc(env->ctx, files * sizeof(*list->files));
	if (list->files == NULL)
		return policy_error_oom(ctx);
	for (i = 0; i < count; i++) {
		if (!is_file_word(&values[i])) {
			total++;
			continue;
		}
		path = values[i].str + strlen(POLICY_LIST_FILE_PREFIX);
		path = policy_include_path(policy, ctx, key, &values[i], path,
					   strlen(path));
		if (path == NULL) {
			policy_list_free(env, list);
			return -1;
		}
		if (policy_wordfile_read(env, ctx, path, &policy->files,
					 &list->files[f]) < 0) {
			policy_error_note(ctx, ctx->name, values[i].line);
			policy_list_free(env, list);
			return -1;
		}
		list->file_count = f + 1;
		for (j = 0; j < list->files[f].count; j++) {
			struct policy_token *word = &list->files[f].words[j];

			word->named_line = values[i].line;
			if (is_file_word(word)) {
				policy_word_error(ctx, key, word, "a list file "
						  "cannot name another");
				policy_list_free(env, list);
				return -1;
			}
		}
		total += list->files[f].count;
		f++;
	}
	list->owned = env->alloc(env->ctx, (total == 0 ? 1 : total) *
				 sizeof(*list->owned));
	if (list->owned == NULL) {
		policy_list_free(env, list);
		return policy_error_oom(ctx);
	}
	for (i = 0, f = 0; i < count; i++) {
		if (!is_file_word(&values[i])) {
			list->owned[n++] = values[i];
			continue;
		}
		for (j = 0; j < list->files[f].count; j++)
			list->owned[n++] = list->files[f].words[j];
		f++;
	}
	list->words = list->owned;
	list->count = n;
	if (n == 0) {
		/* An empty list would mean "no restriction" for
		   allowed_clients: an empty or truncated file must not
		   open a listener to everyone. */
		for (i = 0; !is_file_word(&values[i]); i++)
			;
		policy_list_free(env, list);
		return policy_word_error(ctx, key, &values[i],
					 "the list is empty (the file has "
					 "no words)");
	}
	return 0;
}
