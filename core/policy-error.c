/* policy-error.c: how the policy language reports its first error.
 *
 * Every message is "FILE:LINE:COL: reason" (or "FILE: reason" when it
 * is not about a place), and the builders word their value errors the
 * same way, "KEY "WORD": reason" with the column at the word at fault,
 * through the helpers here. */

#include <stdio.h>
#include <string.h>

#include "policy-private.h"

static int error_vformat(struct policy_errctx *ctx, unsigned int line,
			 unsigned int col, const char *fmt, va_list args)
	__attribute__((format(printf, 4, 0)));

static int error_vformat(struct policy_errctx *ctx, unsigned int line,
			 unsigned int col, const char *fmt, va_list args)
{
	struct mp_error *error = ctx->error;
	int n;

	if (line > 0)
		n = snprintf(error->text, sizeof(error->text), "%s:%u:%u: ",
			     ctx->name, line, col);
	else
		n = snprintf(error->text, sizeof(error->text), "%s: ",
			     ctx->name);
	if (n < 0)
		n = 0;
	if ((size_t)n < sizeof(error->text)) {
		vsnprintf(error->text + n, sizeof(error->text) - (size_t)n,
			  fmt, args);
	}
	error->line = line;
	error->column = line > 0 ? col : 0;
	return -1;
}

int policy_error(struct policy_errctx *ctx, unsigned int line,
		 unsigned int col, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	error_vformat(ctx, line, col, fmt, args);
	va_end(args);
	return -1;
}

int policy_error_file(struct policy_errctx *ctx, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	error_vformat(ctx, 0, 0, fmt, args);
	va_end(args);
	return -1;
}

void policy_error_note(struct policy_errctx *ctx, const char *name,
		       unsigned int line)
{
	struct mp_error *error = ctx->error;
	size_t len = strlen(error->text);

	snprintf(error->text + len, sizeof(error->text) - len,
		 " (named at %s:%u)", name, line);
}

const char *policy_comment_hint(const struct policy_errctx *ctx,
				unsigned int line, char buf[128])
{
	if (ctx->comment_line == 0 || ctx->comment_line != line)
		return "";
	snprintf(buf, 128, " ('#' at column %u starts a comment: quote a "
		 "name that begins with '#')", ctx->comment_col);
	return buf;
}

int policy_error_oom(struct policy_errctx *ctx)
{
	return policy_error_file(ctx, "out of memory");
}

/* At most 64 bytes of s, cut before a UTF-8 sequence (messages end up
   in logs that must stay valid UTF-8). */
static size_t clip_len(const char *s, size_t len)
{
	size_t n = len;

	if (n > 64) {
		n = 64;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return n;
}

const char *policy_quote(const char *s, size_t len, char buf[80])
{
	size_t n = clip_len(s, len);

	snprintf(buf, 80, "\"%.*s%s\"", (int)n, s, n < len ? "..." : "");
	return buf;
}

const char *policy_clip(const char *s, char buf[80])
{
	size_t len = strlen(s), n = clip_len(s, len);

	snprintf(buf, 80, "%.*s%s", (int)n, s, n < len ? "..." : "");
	return buf;
}

/* ---- word checks shared by the builders ---- */

const char *policy_shown(const struct policy_token *token, char buf[80])
{
	return policy_quote(token->str, token->len, buf);
}

/* The context for messages about token: the policy file's, or one
   naming the list file the token comes from. */
static struct policy_errctx *token_ctx(struct policy_errctx *ctx,
				       const struct policy_token *token,
				       struct policy_errctx *file_ctx)
{
	if (token->file == NULL)
		return ctx;
	file_ctx->name = token->file;
	file_ctx->error = ctx->error;
	return file_ctx;
}

/* After an error about a word of a list file: where the policy names
   the file. */
static void note_named(struct policy_errctx *ctx,
		       const struct policy_token *token)
{
	if (token->file != NULL && token->named_line != 0)
		policy_error_note(ctx, ctx->name, token->named_line);
}

int policy_word_error(struct policy_errctx *ctx, const struct policy_token *key,
		      const struct policy_token *word, const char *error)
{
	struct policy_errctx file_ctx;
	char buf[80];

	policy_error(token_ctx(ctx, word, &file_ctx), word->line, word->col,
		     "%s %s: %s", key->str, policy_shown(word, buf), error);
	note_named(ctx, word);
	return -1;
}

int policy_one_value(struct policy_errctx *ctx, const struct policy_token *key,
		    const struct policy_token *values, size_t count)
{
	const char *error;
	size_t bad;

	if (policy_one_word(count, &error, &bad) < 0)
		return policy_word_error(ctx, key, &values[bad], error);
	return 0;
}

int policy_key_lookup(struct policy_errctx *ctx, struct policy_build_keys *keys,
		      const struct policy_token *key,
		      const char *(*names)(unsigned int), unsigned int count,
		      const char *section)
{
	char buf[80];
	int k;

	k = policy_name_lookup(names, count, key->str, key->len);
	if (k < 0) {
		return policy_error(ctx, key->line, key->col,
				    "unknown key %s in %s block",
				    policy_shown(key, buf), section);
	}
	if (keys->line[k] != 0) {
		return policy_error(ctx, key->line, key->col,
				    "duplicate key %s (first at line %u)",
				    policy_shown(key, buf), keys->line[k]);
	}
	keys->line[k] = key->line;
	keys->col[k] = key->col;
	return k;
}

int policy_absolute_path(struct policy_errctx *ctx,
			 const struct policy_token *key,
			 const struct policy_token *word)
{
	if (word->str[0] != '/')
		return policy_word_error(ctx, key, word, "not an absolute path");
	return 0;
}

int policy_choice_value(struct policy_errctx *ctx,
			const struct policy_token *key,
			const struct policy_token *values, size_t count,
			const struct policy_choice *choice,
			unsigned int *value_r)
{
	const char *error;

	if (policy_one_value(ctx, key, values, count) < 0)
		return -1;
	if (policy_parse_choice(choice, &values[0], value_r, &error) < 0)
		return policy_word_error(ctx, key, &values[0], error);
	return 0;
}

/* "KEY "WORD": reason" at the word, or "KEY: reason" after the last. */
int policy_value_error(struct policy_errctx *ctx,
		       const struct policy_token *key,
		       const struct policy_token *values, size_t count,
		       size_t bad, const char *error)
{
	struct policy_errctx file_ctx;
	char buf[80], hint[128];

	if (bad < count) {
		policy_error(token_ctx(ctx, &values[bad], &file_ctx),
			     values[bad].line, values[bad].col, "%s %s: %s",
			     key->str, policy_shown(&values[bad], buf), error);
		note_named(ctx, &values[bad]);
		return -1;
	}
	policy_error(token_ctx(ctx, &values[count - 1], &file_ctx),
		     values[count - 1].line,
		     values[count - 1].col + values[count - 1].raw_len,
		     "%s: %s%s", key->str, error,
		     policy_comment_hint(ctx, values[count - 1].line, hint));
	note_named(ctx, &values[count - 1]);
	return -1;
}
