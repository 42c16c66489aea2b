/* policy-parser.c: tokens -> block structure.
 *
 * Each non-blank line is exactly one of
 *     NAME [WORD...] {        opens a block (the `{` ends the line)
 *     }                       closes the innermost block
 *     KEY = VALUE [VALUE...]  sets a key in the innermost block
 * and is handed to the builder as soon as it is read, so the error
 * reported is the first one in file order.  The parser knows nesting
 * (MP_POLICY_MAX_DEPTH levels) but not what any name means. */

#include <stdio.h>
#include <string.h>

#include "policy-private.h"

struct parser_block {
	unsigned int line, col;
};

static const char *token_shown(const struct policy_token *token, char buf[80])
{
	return policy_quote(token->str, token->len, buf);
}

/* A token that may not appear inside a header or a value. */
static int check_plain(struct policy_errctx *ctx,
		       const struct policy_token *tokens, size_t count,
		       const char *where)
{
	size_t i;

	for (i = 0; i < count; i++) {
		switch (tokens[i].type) {
		case POLICY_TOKEN_WORD:
		case POLICY_TOKEN_STRING:
			break;
		case POLICY_TOKEN_EQUALS:
			return policy_error(ctx, tokens[i].line, tokens[i].col,
					    "unexpected '=' %s (quote values "
					    "that contain it)", where);
		case POLICY_TOKEN_LBRACE:
			/* only a '{' that is not last comes here */
			return policy_error(ctx, tokens[i].line, tokens[i].col,
					    "unexpected '{' %s", where);
		case POLICY_TOKEN_RBRACE:
			return policy_error(ctx, tokens[i].line, tokens[i].col,
					    "unexpected '}' %s (a '}' must be "
					    "alone on its line)", where);
		}
	}
	return 0;
}

static int parse_open(struct policy_build *build, struct policy_errctx *ctx,
		      const struct policy_token *t, size_t n,
		      struct parser_block *stack, unsigned int *depth)
{
	char shown[80], hint[128];
	size_t i;

	for (i = 0; i < n - 1; i++) {
		if (t[i].type == POLICY_TOKEN_LBRACE) {
			return policy_error(ctx, t[i + 1].line, t[i + 1].col,
					    "unexpected %s after '{' (a '{' "
					    "must end its line)",
					    t[i + 1].type == POLICY_TOKEN_WORD ||
					    t[i + 1].type == POLICY_TOKEN_STRING ?
					    token_shown(&t[i + 1], shown) :
					    t[i + 1].type == POLICY_TOKEN_EQUALS ?
					    "'='" : "'}'");
		}
	}
	if (n == 1) {
		return policy_error(ctx, t[0].line, t[0].col,
				    "missing block name before '{'%s",
				    policy_comment_hint(ctx, t[0].line, hint));
	}
	if (t[0].type != POLICY_TOKEN_WORD) {
		return policy_error(ctx, t[0].line, t[0].col,
				    "a block name cannot be a quoted string "
				    "(%s)", token_shown(&t[0], shown));
	}
	if (check_plain(ctx, t + 1, n - 2, "in a block header") < 0)
		return -1;
	if (*depth >= MP_POLICY_MAX_DEPTH) {
		return policy_error(ctx, t[0].line, t[0].col,
				    "blocks nest too deep (limit %u)",
				    MP_POLICY_MAX_DEPTH);
	}
	if (policy_build_open(build, *depth, &t[0], &t[1], n - 2) < 0)
		return -1;
	stack[*depth].line = t[0].line;
	stack[*depth].col = t[0].col;
	(*depth)++;
	return 0;
}

static int parse_line(struct policy_build *build, struct policy_errctx *ctx,
		      const struct policy_token *t, size_t n,
		      struct parser_block *stack, unsigned int *depth)
{
	char shown[80], hint[128];
	size_t i;

	if (t[0].type == POLICY_TOKEN_RBRACE) {
		if (n > 1) {
			return policy_error(ctx, t[1].line, t[1].col,
					    "unexpected %s after '}' (a '}' "
					    "must be alone on its line)",
					    t[1].type == POLICY_TOKEN_WORD ||
					    t[1].type == POLICY_TOKEN_STRING ?
					    token_shown(&t[1], shown) :
					    t[1].type == POLICY_TOKEN_EQUALS ?
					    "'='" : t[1].type ==
					    POLICY_TOKEN_LBRACE ? "'{'" : "'}'");
		}
		if (*depth == 0) {
			return policy_error(ctx, t[0].line, t[0].col,
					    "unexpected '}' (no block is open)");
		}
		(*depth)--;
		return policy_build_close(build, *depth, &t[0]);
	}
	for (i = 0; i < n; i++) {
		if (t[i].type == POLICY_TOKEN_LBRACE)
			return parse_open(build, ctx, t, n, stack, depth);
	}
	if (t[0].type == POLICY_TOKEN_EQUALS) {
		return policy_error(ctx, t[0].line, t[0].col,
				    "missing key before '='");
	}
	if (n >= 2 && t[1].type == POLICY_TOKEN_EQUALS) {
		if (t[0].type != POLICY_TOKEN_WORD) {
			return policy_error(ctx, t[0].line, t[0].col,
					    "a key cannot be a quoted string "
					    "(%s)", token_shown(&t[0], shown));
		}
		if (n == 2) {
			return policy_error(ctx, t[1].line, t[1].col + 1,
					    "missing value after '=' (use \"\" "
					    "for an empty one)%s",
					    policy_comment_hint(ctx, t[1].line,
								hint));
		}
		if (check_plain(ctx, t + 2, n - 2, "in a value") < 0)
			return -1;
		return policy_build_assign(build, *depth, &t[0], &t[2], n - 2);
	}
	if (n == 1) {
		return policy_error(ctx, t[0].line, t[0].col + t[0].raw_len,
				    "missing '=' or '{' after %s%s",
				    token_shown(&t[0], shown),
				    policy_comment_hint(ctx, t[0].line, hint));
	}
	if (t[0].type == POLICY_TOKEN_WORD &&
	    policy_name_lookup(policy_section_name_u, POLICY_SECTION_COUNT,
			       t[0].str, t[0].len) >= 0) {
		return policy_error(ctx, t[n - 1].line,
				    t[n - 1].col + t[n - 1].raw_len,
				    "missing '{' at the end of the line%s",
				    policy_comment_hint(ctx, t[n - 1].line,
							hint));
	}
	return policy_error(ctx, t[1].line, t[1].col,
			    "missing '=' after %s", token_shown(&t[0], shown));
}

int policy_parse(struct policy_lexer *lexer, struct policy_build *build,
		 struct policy_errctx *ctx)
{
	struct parser_block stack[MP_POLICY_MAX_DEPTH];
	const struct policy_token *tokens;
	unsigned int depth = 0;
	char desc[128];
	size_t count;
	int ret;

	while ((ret = policy_lexer_next(lexer, &tokens, &count)) > 0) {
		if (count == 0)
			continue;
		if (parse_line(build, ctx, tokens, count, stack, &depth) < 0)
			return -1;
	}
	if (ret < 0)
		return -1;
	if (depth > 0) {
		/* The innermost open block is the one missing its '}'. */
		policy_build_describe(build, depth - 1, desc, sizeof(desc));
		return policy_error(ctx, stack[depth - 1].line,
				    stack[depth - 1].col,
				    "unclosed block %s (no '}' before the end "
				    "of the file)", desc);
	}
	return policy_build_finish(build);
}
