/* policy-lexer.c: mailpolicy.conf bytes -> lines -> tokens.
 *
 * Everything about bytes is decided here, so the parser and the
 * builder only ever see clean, NUL-terminated, valid UTF-8 words:
 *
 *   - lines end in LF; a CR right before the LF is dropped (files
 *     edited on Windows load as they read), a CR anywhere else is a
 *     control character;
 *   - a line holds at most MP_POLICY_MAX_LINE bytes (CR and LF not
 *     counted); a NUL byte anywhere is an error, even in a comment;
 *   - `#` outside a double-quoted string starts a comment, which may
 *     hold any byte but NUL;
 *   - `=`, `{` and `}` are tokens of their own outside quotes;
 *   - other runs of bytes up to a space or tab are words;
 *   - "strings" may hold spaces and `#={}`; `\"` and `\\` are the only
 *     escapes, a string ends on its line, and must be followed by a
 *     space, the end of the line or one of `#={}`;
 *   - words and strings must be valid UTF-8 without control characters
 *     (tab separates words; it is not allowed inside a string).
 *
 * Columns are 1-based byte offsets into the line.  A UTF-8 byte order
 * mark at the start of the file is skipped (and not counted), another
 * kindness to files that come from Windows editors. */

#include <string.h>

#include "policy-private.h"
#include "utf8.h"

struct policy_lexer {
	struct policy_errctx *ctx;
	const char *data;
	size_t size, pos;
	unsigned int line;

	size_t token_count;
	/* A line of N bytes has at most N tokens, whose copies (each
	   NUL-terminated) take at most 2N bytes. */
	struct policy_token tokens[MP_POLICY_MAX_LINE];
	char text[2 * MP_POLICY_MAX_LINE + 1];
	size_t text_used;
};

struct policy_lexer *policy_lexer_new(const struct mp_env *env,
				      struct policy_errctx *ctx,
				      const char *data, size_t size)
{
	struct policy_lexer *lexer;

	lexer = env->alloc(env->ctx, sizeof(*lexer));
	if (lexer == NULL) {
		policy_error_oom(ctx);
		return NULL;
	}
	lexer->ctx = ctx;
	lexer->data = data;
	lexer->size = size;
	lexer->pos = 0;
	if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		lexer->pos = 3;
	lexer->line = 0;
	return lexer;
}

void policy_lexer_free(const struct mp_env *env, struct policy_lexer **lexer)
{
	if (*lexer == NULL)
		return;
	env->free(env->ctx, *lexer);
	*lexer = NULL;
}

#define UNCLOSED_STRING "unclosed string (a string ends on its line)"

/* What each byte is outside a string: a table, since the lexer's inner
   loops run over every byte of files with tens of thousands of
   blocks. */
enum byte_class {
	BYTE_WORD = 0,		/* part of a word (any byte >= 0x80 too) */
	BYTE_SPACE,		/* space, tab */
	BYTE_COMMENT,		/* # */
	BYTE_EQUALS,
	BYTE_LBRACE,
	BYTE_RBRACE,
	BYTE_QUOTE,
	BYTE_CONTROL,		/* other C0 controls and DEL */
};

#define CONTROLS_1_8 BYTE_CONTROL, BYTE_CONTROL, BYTE_CONTROL, BYTE_CONTROL, \
	BYTE_CONTROL, BYTE_CONTROL, BYTE_CONTROL, BYTE_CONTROL
static const unsigned char byte_class[256] = {
	CONTROLS_1_8, BYTE_CONTROL, BYTE_SPACE, CONTROLS_1_8,
	BYTE_CONTROL, BYTE_CONTROL, BYTE_CONTROL, BYTE_CONTROL,
	BYTE_CONTROL, BYTE_CONTROL, CONTROLS_1_8,
	[' '] = BYTE_SPACE,
	['#'] = BYTE_COMMENT,
	['='] = BYTE_EQUALS,
	['{'] = BYTE_LBRACE,
	['}'] = BYTE_RBRACE,
	['"'] = BYTE_QUOTE,
	[0x7f] = BYTE_CONTROL,
};

static inline bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static inline bool ends_word(unsigned char c)
{
	return byte_class[c] != BYTE_WORD;
}

static int lexer_error(struct policy_lexer *lexer, size_t offset,
		       const char *reason)
{
	return policy_error(lexer->ctx, lexer->line, (unsigned int)offset + 1,
			    "%s", reason);
}

static int lexer_control_error(struct policy_lexer *lexer, size_t offset,
			       unsigned char c)
{
	if (c == '\r') {
		return lexer_error(lexer, offset, "carriage return inside a "
				   "line (lines end in LF, or CR LF; convert "
				   "a file with CR line endings)");
	}
	return policy_error(lexer->ctx, lexer->line, (unsigned int)offset + 1,
			    "control character 0x%02x not allowed "
			    "(quote names, and use spaces, not tabs, "
			    "inside strings)", c);
}

static struct policy_token *
lexer_push(struct policy_lexer *lexer, enum policy_token_type type,
	   size_t offset, size_t raw_len)
{
	struct policy_token *token = &lexer->tokens[lexer->token_count++];

	token->type = type;
	token->file = NULL;
	token->line = lexer->line;
	token->col = (unsigned int)offset + 1;
	token->raw_len = (unsigned int)raw_len;
	token->str = lexer->text + lexer->text_used;
	token->len = 0;
	return token;
}

static void lexer_text_end(struct policy_lexer *lexer,
			   struct policy_token *token)
{
	lexer->text[lexer->text_used++] = '\0';
	token->len = (size_t)(lexer->text + lexer->text_used - 1 - token->str);
}

/* A double-quoted string starting at line[*pos] == '"'. */
static int lexer_string(struct policy_lexer *lexer, const char *line,
			size_t len, size_t *pos)
{
	size_t start = *pos, i = start + 1, bad;
	struct policy_token *token;
	unsigned char c, has_high = 0;

	token = lexer_push(lexer, POLICY_TOKEN_STRING, start, 0);
	for (;;) {
		/* the common run: no quote, backslash or control */
		size_t run = i;
		unsigned char high = 0;

		while (run < len && line[run] != '"' && line[run] != '\\' &&
		       !is_control((unsigned char)line[run]))
			high |= (unsigned char)line[run++];
		memcpy(lexer->text + lexer->text_used, line + i, run - i);
		lexer->text_used += run - i;
		has_high |= high;
		i = run;
		if (i == len)
			return lexer_error(lexer, start, UNCLOSED_STRING);
		c = (unsigned char)line[i];
		if (c == '"')
			break;
		if (c != '\\')
			return lexer_control_error(lexer, i, c);
		if (i + 1 == len)
			return lexer_error(lexer, start, UNCLOSED_STRING);
		c = (unsigned char)line[i + 1];
		if (c != '"' && c != '\\') {
			return lexer_error(lexer, i, "invalid escape in string "
					   "(only \\\" and \\\\)");
		}
		lexer->text[lexer->text_used++] = (char)c;
		i += 2;
	}
	/* Escapes are ASCII, so the raw bytes are valid UTF-8 exactly
	   when the decoded ones are, and the raw offset is the column. */
	if ((has_high & 0x80) != 0) {
		bad = mp_utf8_invalid_offset(line + start + 1, i - start - 1);
		if (bad != i - start - 1)
			return lexer_error(lexer, start + 1 + bad,
					   "invalid UTF-8");
	}
	lexer_text_end(lexer, token);
	i++;
	token->raw_len = (unsigned int)(i - start);
	if (i < len && (!ends_word((unsigned char)line[i]) || line[i] == '"'))
		return lexer_error(lexer, i, "missing space after the string");
	*pos = i;
	return 0;
}

static int lexer_word(struct policy_lexer *lexer, const char *line,
		      size_t len, size_t *pos)
{
	size_t start = *pos, i = start, bad;
	struct policy_token *token;
	unsigned char high = 0;

	while (i < len && byte_class[(unsigned char)line[i]] == BYTE_WORD)
		high |= (unsigned char)line[i++];
	if (i < len && byte_class[(unsigned char)line[i]] == BYTE_CONTROL)
		return lexer_control_error(lexer, i, (unsigned char)line[i]);
	if (i < len && line[i] == '"') {
		return lexer_error(lexer, i, "unexpected '\"' inside a word "
				   "(quote the whole word)");
	}
	if ((high & 0x80) != 0) {
		bad = mp_utf8_invalid_offset(line + start, i - start);
		if (bad != i - start)
			return lexer_error(lexer, start + bad, "invalid UTF-8");
	}
	token = lexer_push(lexer, POLICY_TOKEN_WORD, start, i - start);
	memcpy(lexer->text + lexer->text_used, line + start, i - start);
	lexer->text_used += i - start;
	lexer_text_end(lexer, token);
	*pos = i;
	return 0;
}

static int lexer_tokenize(struct policy_lexer *lexer, const char *line,
			  size_t len)
{
	size_t pos = 0;
	unsigned char c;

	lexer->token_count = 0;
	lexer->text_used = 0;
	while (pos < len) {
		c = (unsigned char)line[pos];
		switch ((enum byte_class)byte_class[c]) {
		case BYTE_SPACE:
			pos++;
			break;
		case BYTE_COMMENT:
			if (pos > 0 && byte_class[(unsigned char)line[pos - 1]] ==
			    BYTE_WORD) {
				return lexer_error(lexer, pos, "'#' inside a "
						   "word (quote the word, or "
						   "put a blank before a "
						   "comment)");
			}
			lexer->ctx->comment_line = lexer->line;
			lexer->ctx->comment_col = (unsigned int)pos + 1;
			return 0;
		case BYTE_EQUALS:
			lexer_push(lexer, POLICY_TOKEN_EQUALS, pos, 1)->str = "=";
			lexer->tokens[lexer->token_count - 1].len = 1;
			pos++;
			break;
		case BYTE_LBRACE:
			lexer_push(lexer, POLICY_TOKEN_LBRACE, pos, 1)->str = "{";
			lexer->tokens[lexer->token_count - 1].len = 1;
			pos++;
			break;
		case BYTE_RBRACE:
			lexer_push(lexer, POLICY_TOKEN_RBRACE, pos, 1)->str = "}";
			lexer->tokens[lexer->token_count - 1].len = 1;
			pos++;
			break;
		case BYTE_QUOTE:
			if (lexer_string(lexer, line, len, &pos) < 0)
				return -1;
			break;
		case BYTE_CONTROL:
			return lexer_control_error(lexer, pos, c);
		case BYTE_WORD:
			if (lexer_word(lexer, line, len, &pos) < 0)
				return -1;
			break;
		}
	}
	return 0;
}

int policy_lexer_next(struct policy_lexer *lexer,
		      const struct policy_token **tokens_r, size_t *count_r)
{
	const char *line, *nl, *nul;
	size_t len, left;

	if (lexer->pos >= lexer->size)
		return 0;
	lexer->line++;
	line = lexer->data + lexer->pos;
	left = lexer->size - lexer->pos;
	nl = memchr(line, '\n', left);
	len = nl == NULL ? left : (size_t)(nl - line);
	lexer->pos += nl == NULL ? len : len + 1;
	if (len > 0 && line[len - 1] == '\r')
		len--;

	/* Whichever comes first: a NUL, or the byte past the limit. */
	nul = memchr(line, '\0', len < MP_POLICY_MAX_LINE ? len :
		     MP_POLICY_MAX_LINE);
	if (nul != NULL)
		return lexer_error(lexer, (size_t)(nul - line), "NUL byte");
	if (len > MP_POLICY_MAX_LINE) {
		return policy_error(lexer->ctx, lexer->line,
				    MP_POLICY_MAX_LINE + 1,
				    "line too long (limit %u bytes)",
				    MP_POLICY_MAX_LINE);
	}
	if (lexer_tokenize(lexer, line, len) < 0)
		return -1;
	*tokens_r = lexer->tokens;
	*count_r = lexer->token_count;
	return 1;
}
