/* test-policy-errors.c: every way a policy file can be wrong, with the
 * exact "FILE:LINE:COL: reason" the admin reads (core/policy-*.c).
 *
 * One table, one cmocka test per row (named after the row), so a
 * failure names the case.  Columns are 1-based bytes; each row's input
 * is written so that the column can be counted by eye.  A last group
 * checks what is about the file rather than a place in it (missing,
 * too large) and the compile-time limits that need generated input. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mailpolicy/policy.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

struct error_case {
	const char *name;
	const char *input;
	size_t size;
	const char *error;	/* without the "t:" prefix */
};

/* sizeof - 1: the inputs may hold NUL bytes. */
#define E(name, input, error) { name, input, sizeof(input) - 1, error }

static const struct error_case cases[] = {
	/* ---- bytes and lines ---- */
	E("nul", "listener mx {\n  por\0ts = 25\n}\n", "2:6: NUL byte"),
	E("nul in comment", "# \0\n", "1:3: NUL byte"),
	E("nul in string", "milter {\n  audit_header = \"a\0\"\n}\n",
	  "2:20: NUL byte"),
	E("control char", "milter {\n  audit_header = X\001\n}\n",
	  "2:19: control character 0x01 not allowed (quote names, and use "
	  "spaces, not tabs, inside strings)"),
	E("tab in string", "milter {\n  audit_header = \"a\tb\"\n}\n",
	  "2:20: control character 0x09 not allowed (quote names, and use "
	  "spaces, not tabs, inside strings)"),
	E("lone cr", "milter {\r\n  mode = enforce\rx\r\n}\r\n",
	  "2:17: carriage return inside a line (lines end in LF, or CR LF; "
	  "convert a file with CR line endings)"),
	/* a file saved with CR line endings is one long line: say so, not
	   "use spaces, not tabs" */
	E("cr-only file", "pop3_retention {\r  on_dele = hide\r}\r",
	  "1:17: carriage return inside a line (lines end in LF, or CR LF; "
	  "convert a file with CR line endings)"),
	/* '#' starts a comment: where that swallows a name, say so */
	E("comment swallows a pattern",
	  "folder_quota {\n  folder #Public/x {\n  }\n}\n",
	  "2:9: missing '=' or '{' after \"folder\" ('#' at column 10 starts a "
	  "comment: quote a name that begins with '#')"),
	E("comment swallows a mailbox",
	  "pop3_retention {\n  on_retrieve = move #Old\n}\n",
	  "2:21: on_retrieve: needs a mailbox (e.g. move Archive/POP) ('#' at "
	  "column 22 starts a comment: quote a name that begins with '#')"),
	E("comment swallows a value",
	  "milter {\n  audit_header = #X\n}\n",
	  "2:17: missing value after '=' (use \"\" for an empty one) ('#' at "
	  "column 18 starts a comment: quote a name that begins with '#')"),
	E("comment swallows the brace",
	  "folder_quota {\n  folder Trash # {\n  }\n}\n",
	  "2:15: missing '{' at the end of the line ('#' at column 16 starts a "
	  "comment: quote a name that begins with '#')"),
	E("hash inside a word",
	  "folder_quota {\n  folder Trash#old {\n  }\n}\n",
	  "2:15: '#' inside a word (quote the word, or put a blank before a "
	  "comment)"),
	E("hash glued to a value",
	  "listener mx {\n  ports = 25# smtp\n}\n",
	  "2:13: '#' inside a word (quote the word, or put a blank before a "
	  "comment)"),
	E("quoted section name", "\"pop3_retention\" {\n}\n",
	  "1:1: a block name cannot be a quoted string (\"pop3_retention\")"),
	/* a U-label never matches what hosts hand over: the A-label */
	E("non-ascii domain", "pop3_retention domain b\xc3\xbc" "cher.de {\n}\n",
	  "1:23: invalid domain \"b\xc3\xbc" "cher.de\": not ASCII: write its "
	  "A-label, xn--bcher-kva.de (check with idn2(1))"),
	E("non-ascii upper case domain",
	  "folder_quota domain M\xc3\x9c" "NCHEN.example {\n}\n",
	  "1:21: invalid domain \"M\xc3\x9c" "NCHEN.example\": not ASCII: write "
	  "its A-label, xn--mnchen-3ya.example (check with idn2(1))"),
	E("non-ascii user domain",
	  "pop3_retention user ceo@\xe4\xb8\xad\xe5\x9b\xbd {\n}\n",
	  "1:21: invalid user \"ceo@\xe4\xb8\xad\xe5\x9b\xbd\": domain part: "
	  "not ASCII: write its A-label, xn--fiqs8s (check with idn2(1))"),
	E("non-ascii domain, no certain A-label",
	  "pop3_retention domain \xce\xa0\xce\x91.gr {\n}\n",
	  "1:23: invalid domain \"\xce\xa0\xce\x91.gr\": not ASCII: write its "
	  "A-label (xn--..., as idn2(1) prints it)"),
	E("del char", "milter {\n  mode = \177\n}\n",
	  "2:10: control character 0x7f not allowed (quote names, and use "
	  "spaces, not tabs, inside strings)"),
	E("invalid utf-8 in selector",
	  "pop3_retention user b\xffob@example.org {\n}\n",
	  "1:22: invalid UTF-8"),
	E("invalid utf-8 in string",
	  "pop3_retention {\n  on_retrieve = move \"Arch\xc0\xafive\"\n}\n",
	  "2:27: invalid UTF-8"),
	E("surrogate in pattern",
	  "folder_quota {\n  folder \xed\xa0\x80 {\n  }\n}\n",
	  "2:10: invalid UTF-8"),
	E("unclosed string", "folder_quota {\n  folder \"Trash {\n",
	  "2:10: unclosed string (a string ends on its line)"),
	E("unclosed string after backslash",
	  "folder_quota {\n  folder \"Trash\\\n",
	  "2:10: unclosed string (a string ends on its line)"),
	E("invalid escape", "milter {\n  audit_header = \"a\\nb\"\n}\n",
	  "2:20: invalid escape in string (only \\\" and \\\\)"),
	E("no space after string",
	  "folder_quota {\n  folder \"Trash\"x {\n",
	  "2:17: missing space after the string"),
	E("two strings glued",
	  "folder_quota {\n  folder \"a\"\"b\" {\n",
	  "2:13: missing space after the string"),
	E("quote inside word", "milter {\n  socket = inet:\"8893\"\n}\n",
	  "2:17: unexpected '\"' inside a word (quote the whole word)"),

	/* ---- lines of the grammar ---- */
	E("brace not last", "listener mx { ports = 25\n}\n",
	  "1:15: unexpected \"ports\" after '{' (a '{' must end its line)"),
	E("brace then brace", "listener mx { }\n",
	  "1:15: unexpected '}' after '{' (a '{' must end its line)"),
	E("brace alone", "{\n}\n", "1:1: missing block name before '{'"),
	E("quoted block name", "\"listener\" mx {\n}\n",
	  "1:1: a block name cannot be a quoted string (\"listener\")"),
	E("equals in header", "listener mx = {\n}\n",
	  "1:13: unexpected '=' in a block header (quote values that "
	  "contain it)"),
	E("unmatched close", "}\n", "1:1: unexpected '}' (no block is open)"),
	E("close after block", "milter {\n}\n}\n",
	  "3:1: unexpected '}' (no block is open)"),
	E("close with more", "milter {\n} x\n",
	  "2:3: unexpected \"x\" after '}' (a '}' must be alone on its "
	  "line)"),
	E("close then open", "milter {\n} {\n",
	  "2:3: unexpected '{' after '}' (a '}' must be alone on its line)"),
	E("unclosed block", "\n\nlistener mx {\n  ports = 25\n",
	  "3:1: unclosed block listener mx (no '}' before the end of the "
	  "file)"),
	E("unclosed inner block",
	  "folder_quota domain example.org {\n  folder Trash {\n",
	  "2:3: unclosed block folder Trash (no '}' before the end of the "
	  "file)"),
	E("unclosed outer block",
	  "folder_quota domain Example.ORG {\n  folder Trash {\n  }\n",
	  "1:1: unclosed block folder_quota domain example.org (no '}' "
	  "before the end of the file)"),
	E("too deep",
	  "folder_quota {\n  folder A {\n    folder B {\n    }\n  }\n}\n",
	  "3:5: blocks nest too deep (limit 2)"),
	E("missing value", "listener mx {\n  ports =\n}\n",
	  "2:10: missing value after '=' (use \"\" for an empty one)"),
	E("missing equals", "listener mx {\n  ports 25\n}\n",
	  "2:9: missing '=' after \"ports\""),
	E("lone word", "listener mx {\n  ports\n}\n",
	  "2:8: missing '=' or '{' after \"ports\""),
	E("section without brace", "listener mx  # comment\n",
	  "1:12: missing '{' at the end of the line ('#' at column 14 starts a "
	  "comment: quote a name that begins with '#')"),
	E("section without brace, no comment", "listener mx\n",
	  "1:12: missing '{' at the end of the line"),
	E("missing key", "milter {\n  = enforce\n}\n",
	  "2:3: missing key before '='"),
	E("two equals", "milter {\n  = = x\n}\n",
	  "2:3: missing key before '='"),
	E("quoted key", "milter {\n  \"mode\" = enforce\n}\n",
	  "2:3: a key cannot be a quoted string (\"mode\")"),
	E("equals in value", "milter {\n  audit_header = a=b\n}\n",
	  "2:19: unexpected '=' in a value (quote values that contain it)"),
	E("brace in value", "milter {\n  audit_header = a }\n",
	  "2:20: unexpected '}' in a value (a '}' must be alone on its "
	  "line)"),
	E("line too long",
	  "# 4097 bytes: "
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxx\n",
	  "1:4097: line too long (limit 4096 bytes)"),

	/* ---- sections and selectors ---- */
	E("unknown section", "imap_quota {\n}\n",
	  "1:1: unknown section \"imap_quota\""),
	E("folder outside folder_quota", "\nfolder Trash {\n}\n",
	  "2:1: unknown section \"folder\" (folder blocks go inside "
	  "folder_quota)"),
	E("section names are lower case", "Milter {\n}\n",
	  "1:1: unknown section \"Milter\""),
	E("block in pop3_retention", "pop3_retention {\n  folder Trash {\n",
	  "2:3: unexpected block \"folder\" in pop3_retention block (it "
	  "takes only keys)"),
	E("block in listener", "listener mx {\n  tls {\n",
	  "2:3: unexpected block \"tls\" in listener block (it takes only "
	  "keys)"),
	E("unknown block in folder_quota", "folder_quota {\n  mailbox A {\n",
	  "2:3: unknown block \"mailbox\" in folder_quota block (only folder "
	  "blocks)"),
	E("unknown selector", "pop3_retention example.org {\n}\n",
	  "1:16: unknown selector \"example.org\" after pop3_retention (use "
	  "domain NAME or user ADDRESS)"),
	E("quoted selector word", "folder_quota \"domain\" example.org {\n}\n",
	  "1:14: unknown selector \"domain\" after folder_quota (use domain "
	  "NAME or user ADDRESS)"),
	E("missing domain", "pop3_retention domain {\n}\n",
	  "1:22: missing domain name after \"domain\""),
	E("missing user", "folder_quota user {\n}\n",
	  "1:18: missing address after \"user\""),
	E("extra selector", "pop3_retention domain a.org b.org {\n}\n",
	  "1:29: unexpected \"b.org\" after the selector"),
	E("selector on listener", "listener domain example.org {\n}\n",
	  "1:17: unexpected \"example.org\" after the listener label "
	  "(listener takes no selector)"),
	E("selector on milter", "milter domain example.org {\n}\n",
	  "1:8: unexpected \"domain\" after milter (milter takes no label or "
	  "selector)"),
	E("missing listener label", "listener {\n}\n",
	  "1:9: missing label after \"listener\""),
	E("empty listener label", "listener \"\" {\n}\n",
	  "1:10: empty listener label"),
	E("missing pattern", "folder_quota {\n  folder {\n",
	  "2:9: missing pattern after \"folder\""),
	E("pattern with a space", "folder_quota {\n  folder Old Mail {\n",
	  "2:14: unexpected \"Mail\" after the folder pattern (quote a "
	  "pattern with spaces)"),
	E("empty pattern", "folder_quota {\n  folder \"\" {\n",
	  "2:10: folder \"\": invalid folder pattern: empty"),
	E("empty domain label", "pop3_retention domain exa..mple.org {\n}\n",
	  "1:23: invalid domain \"exa..mple.org\": empty label"),
	E("trailing dot", "pop3_retention domain example.org. {\n}\n",
	  "1:23: invalid domain \"example.org.\": empty label"),
	E("domain with hyphen", "pop3_retention domain -x.org {\n}\n",
	  "1:23: invalid domain \"-x.org\": label starts or ends with '-'"),
	E("domain with at", "pop3_retention domain a@b.org {\n}\n",
	  "1:23: invalid domain \"a@b.org\": invalid character (use letters, "
	  "digits, '-', '_' and '.')"),
	E("domain label too long",
	  "pop3_retention domain "
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org"
	  " {\n}\n",
	  "1:23: invalid domain \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaa...\": label longer than 63 bytes"),
	E("empty domain", "pop3_retention domain \"\" {\n}\n",
	  "1:23: invalid domain \"\": empty"),
	E("domain too long",
	  "pop3_retention domain "
	  "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a."
	  "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a."
	  "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a."
	  "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.ab {\n}\n",
	  "1:23: invalid domain \"a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a."
	  "a.a.a.a.a.a.a.a....\": longer than 253 bytes"),
	E("ipv6 host", "milter {\n  rate_store = redis://[::g]\n}\n",
	  "2:16: rate_store \"redis://[::g]\": invalid host: invalid IPv6 "
	  "address"),
	E("long header name",
	  "milter {\n  audit_header = "
	  "X-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "\n}\n",
	  "2:18: audit_header \"X-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaa...\": header name longer than 76 characters"),
	E("socket port word", "milter {\n  socket = inet:@host\n}\n",
	  "2:12: socket \"inet:@host\": invalid port (use inet:PORT@HOST)"),
	E("unclosed block with a long UTF-8 name",
	  "folder_quota user "
	  "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
	  "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
	  "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
	  "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4x"
	  "\xc3\xa4@x.org {\n",
	  "1:1: unclosed block folder_quota user "
	  "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
	  "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
	  "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
	  "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4x... "
	  "(no '}' before the end of the file)"),
	E("empty local part", "pop3_retention user @example.org {\n}\n",
	  "1:21: invalid user \"@example.org\": empty local part"),
	E("empty domain part", "pop3_retention user bob@ {\n}\n",
	  "1:21: invalid user \"bob@\": empty domain part"),
	E("bad domain part", "folder_quota user bob@exa_mple..org {\n}\n",
	  "1:19: invalid user \"bob@exa_mple..org\": domain part: empty "
	  "label"),
	E("user with space", "pop3_retention user \"bob smith@x.org\" {\n}\n",
	  "1:21: invalid user \"bob smith@x.org\": spaces and control "
	  "characters are not allowed"),
	E("empty user", "pop3_retention user \"\" {\n}\n",
	  "1:21: invalid user \"\": empty"),

	/* ---- duplicates ---- */
	E("duplicate default block",
	  "pop3_retention {\n}\n\npop3_retention {\n}\n",
	  "4:1: duplicate block pop3_retention (first at line 1)"),
	E("duplicate domain block",
	  "#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n"
	  "pop3_retention domain example.org {\n}\n"
	  "pop3_retention domain EXAMPLE.org {\n}\n",
	  "14:1: duplicate block pop3_retention domain example.org (first at "
	  "line 12)"),
	E("duplicate user block",
	  "folder_quota user Bob@Example.org {\n}\n"
	  "folder_quota user Bob@example.ORG {\n}\n",
	  "3:1: duplicate block folder_quota user Bob@example.org (first at "
	  "line 1)"),
	E("duplicate listener", "listener mx {\n}\nlistener mx {\n}\n",
	  "3:10: duplicate listener \"mx\" (first at line 1)"),
	E("duplicate milter", "milter {\n}\nmilter {\n}\n",
	  "3:1: duplicate block milter (first at line 1)"),
	E("duplicate key",
	  "pop3_retention {\n  keep_after_retrieval = 30d\n"
	  "  keep_after_retrieval = 7d\n}\n",
	  "3:3: duplicate key \"keep_after_retrieval\" (first at line 2)"),
	E("duplicate folder key",
	  "folder_quota {\n  folder A {\n    storage = 1G\n    storage = 2G\n",
	  "4:5: duplicate key \"storage\" (first at line 3)"),
	E("duplicate listener key",
	  "listener mx {\n  ports = 25\n  ports = 26\n}\n",
	  "3:3: duplicate key \"ports\" (first at line 2)"),
	E("duplicate milter key", "milter {\n  mode = report\n  mode = report\n}\n",
	  "3:3: duplicate key \"mode\" (first at line 2)"),
	E("duplicate folder",
	  "folder_quota {\n  folder Trash {\n  }\n  folder \"Trash\" {\n  }\n}\n",
	  "4:10: duplicate folder \"Trash\" in this block (first at line 2)"),
	/* INBOX is one name whatever its case (IMAP) */
	E("duplicate inbox in other case",
	  "folder_quota {\n  folder INBOX {\n  }\n  folder inbox {\n  }\n}\n",
	  "4:10: duplicate folder \"inbox\" in this block (first at line 2)"),
	E("duplicate inbox child in other case",
	  "folder_quota {\n  folder \"Inbox/Sent\" {\n  }\n"
	  "  folder \"INBOX/Sent\" {\n  }\n}\n",
	  "4:10: duplicate folder \"INBOX/Sent\" in this block (first at "
	  "line 2)"),
	E("same port twice", "listener mx {\n  ports = 25 26 25\n}\n",
	  "2:17: ports \"25\": listed twice"),
	E("same port in two listeners",
	  "listener mx {\n  ports = 25\n}\nlistener submission {\n"
	  "  ports = 587 25\n}\n",
	  "5:15: ports \"25\": already used by listener mx (line 1)"),

	/* ---- keys ---- */
	E("key outside a block", "# a key before any block\n"
	  "keep_after_retrieval = 30d\n",
	  "2:1: key \"keep_after_retrieval\" outside of any block"),
	E("unknown retention key", "pop3_retention {\n  keep_forever = yes\n}\n",
	  "2:3: unknown key \"keep_forever\" in pop3_retention block"),
	E("unknown listener key", "listener mx {\n  foo = bar\n}\n",
	  "2:3: unknown key \"foo\" in listener block"),
	E("unknown milter key", "milter {\n  ports = 25\n}\n",
	  "2:3: unknown key \"ports\" in milter block"),
	E("unknown folder key",
	  "folder_quota {\n  folder A {\n    size = 1G\n  }\n}\n",
	  "3:5: unknown key \"size\" in folder block"),
	E("folder key in folder_quota", "folder_quota {\n  storage = 1G\n}\n",
	  "2:3: key \"storage\" must be inside a folder block"),
	E("unknown key in folder_quota", "folder_quota {\n  quota = 1G\n}\n",
	  "2:3: unknown key \"quota\" in folder_quota block"),
	E("keys are lower case", "milter {\n  Mode = report\n}\n",
	  "2:3: unknown key \"Mode\" in milter block"),

	/* ---- values: pop3_retention ---- */
	E("duration with space",
	  "pop3_retention {\n  keep_after_retrieval = 30 days\n}\n",
	  "2:29: keep_after_retrieval \"days\": unexpected extra value"),
	E("duration without unit",
	  "pop3_retention {\n  keep_after_retrieval = 30\n}\n",
	  "2:26: keep_after_retrieval \"30\": invalid duration: missing unit "
	  "(use s, m, h, d or w)"),
	E("duration overflow",
	  "pop3_retention {\n  keep_after_retrieval = 99999999999999999999d\n}\n",
	  "2:26: keep_after_retrieval \"99999999999999999999d\": invalid "
	  "duration: too large"),
	E("negative duration",
	  "pop3_retention {\n  keep_after_retrieval = -1d\n}\n",
	  "2:26: keep_after_retrieval \"-1d\": invalid duration: not a number "
	  "(or \"never\")"),
	E("unknown on_dele", "pop3_retention {\n  on_dele = delete\n}\n",
	  "2:13: on_dele \"delete\": unknown value (use expunge, defer "
	  "DURATION or hide)"),
	E("enum words are lower case", "pop3_retention {\n  on_dele = Hide\n}\n",
	  "2:13: on_dele \"Hide\": unknown value (use expunge, defer DURATION "
	  "or hide)"),
	E("defer without duration", "pop3_retention {\n  on_dele = defer\n}\n",
	  "2:18: on_dele: needs a duration (e.g. defer 7d)"),
	E("defer 0s", "pop3_retention {\n  on_dele = defer 0s\n}\n",
	  "2:19: on_dele \"0s\": defer needs a duration above zero (or use "
	  "expunge)"),
	E("defer never", "pop3_retention {\n  on_dele = defer never\n}\n",
	  "2:19: on_dele \"never\": defer takes a finite duration (hide keeps "
	  "a message until keep_after_retrieval ends)"),
	E("defer two durations", "pop3_retention {\n  on_dele = defer 1d 2d\n}\n",
	  "2:22: on_dele \"2d\": unexpected extra value"),
	E("expunge with duration", "pop3_retention {\n  on_dele = expunge 7d\n}\n",
	  "2:21: on_dele \"7d\": unexpected extra value"),
	E("move without mailbox", "pop3_retention {\n  on_retrieve = move\n}\n",
	  "2:21: on_retrieve: needs a mailbox (e.g. move Archive/POP)"),
	E("move with spaces",
	  "pop3_retention {\n  on_retrieve = move Old Mail\n}\n",
	  "2:26: on_retrieve \"Mail\": unexpected extra value (quote a mailbox "
	  "name with spaces)"),
	E("move to empty mailbox",
	  "pop3_retention {\n  on_retrieve = move \"\"\n}\n",
	  "2:22: on_retrieve \"\": empty mailbox name"),
	E("seen with mailbox", "pop3_retention {\n  on_retrieve = seen Old\n}\n",
	  "2:22: on_retrieve \"Old\": unexpected extra value"),
	E("size overflow",
	  "pop3_retention {\n  max_retained_size = 99999999999999999999G\n}\n",
	  "2:23: max_retained_size \"99999999999999999999G\": invalid size: "
	  "too large"),

	/* ---- values: folder ---- */
	E("storage overflow",
	  "folder_quota {\n  folder A {\n    storage = 99999999999999999999G\n",
	  "3:15: storage \"99999999999999999999G\": invalid size: too large"),
	E("storage unit overflow",
	  "folder_quota {\n  folder A {\n    storage = 17179869184G\n",
	  "3:15: storage \"17179869184G\": invalid size: too large"),
	E("storage beyond off_t",
	  "folder_quota {\n  folder A {\n    storage = 8388608T\n",
	  "3:15: storage \"8388608T\": invalid size: too large (limit "
	  "8388607T)"),
	E("storage unknown unit",
	  "folder_quota {\n  folder A {\n    storage = 100X\n",
	  "3:15: storage \"100X\": invalid size: unknown unit (use B, K, M, G "
	  "or T)"),
	E("messages not a number",
	  "folder_quota {\n  folder A {\n    messages = 1k\n",
	  "3:16: messages \"1k\": invalid number: trailing characters"),
	E("unknown scope", "folder_quota {\n  folder A {\n    scope = tree\n",
	  "3:13: scope \"tree\": unknown value (use folder or subtree)"),
	E("bad when_full",
	  "folder_quota {\n  folder Junk {\n    when_full = expunge\n  }\n}\n",
	  "3:17: when_full \"expunge\": unknown value (use refuse or "
	  "expunge_oldest)"),
	E("when_full twice",
	  "folder_quota {\n  folder Junk {\n    when_full = refuse\n"
	  "    when_full = refuse\n  }\n}\n",
	  "4:5: duplicate key \"when_full\" (first at line 3)"),
	E("when_full outside a folder",
	  "folder_quota {\n  when_full = refuse\n}\n",
	  "2:3: key \"when_full\" must be inside a folder block"),
	E("two scopes",
	  "folder_quota {\n  folder A {\n    scope = folder subtree\n",
	  "3:20: scope \"subtree\": unexpected extra value"),

	/* ---- values: listener ---- */
	E("port 0", "listener mx {\n  ports = 0\n}\n",
	  "2:11: ports \"0\": invalid port: out of range (1-65535)"),
	E("port too large", "listener mx {\n  ports = 25 70000\n}\n",
	  "2:14: ports \"70000\": invalid port: out of range (1-65535)"),
	E("port not a number", "listener mx {\n  ports = smtp\n}\n",
	  "2:11: ports \"smtp\": invalid port: not a number"),
	E("unknown auth", "listener mx {\n  auth = maybe\n}\n",
	  "2:10: auth \"maybe\": unknown value (use require, optional or "
	  "forbid)"),
	E("tls forbid", "listener mx {\n  tls = forbid\n}\n",
	  "2:9: tls \"forbid\": unknown value (use require or optional)"),
	E("unknown tls version", "listener mx {\n  min_tls = TLSv1.4\n}\n",
	  "2:13: min_tls \"TLSv1.4\": invalid TLS version (use TLSv1, TLSv1.1, "
	  "TLSv1.2 or TLSv1.3)"),
	E("sslv3", "listener mx {\n  min_tls = SSLv3\n}\n",
	  "2:13: min_tls \"SSLv3\": unsupported TLS version: SSLv2 and SSLv3 "
	  "are insecure (use TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)"),
	E("sasl mechanism", "listener mx {\n  auth_mechanisms = PLAIN LOG*IN\n}\n",
	  "2:27: auth_mechanisms \"LOG*IN\": invalid SASL mechanism name "
	  "(letters, digits, '-', '_')"),
	E("sasl mechanism twice",
	  "listener mx {\n  auth_mechanisms = PLAIN plain\n}\n",
	  "2:27: auth_mechanisms \"plain\": listed twice"),
	E("sasl mechanism too long",
	  "listener mx {\n  auth_mechanisms = ABCDEFGHIJKLMNOPQRSTU\n}\n",
	  "2:21: auth_mechanisms \"ABCDEFGHIJKLMNOPQRSTU\": a SASL mechanism "
	  "name has 1 to 20 characters"),
	E("unknown sender", "listener mx {\n  sender = domain\n}\n",
	  "2:12: sender \"domain\": unknown value (use any, login, "
	  "login_domain or map)"),
	E("sender map without file",
	  "listener mx {\n  ports = 587\n  sender = map\n}\n",
	  "3:3: sender = map needs sender_map = FILE"),
	E("sender_map without map",
	  "listener mx {\n  sender_map = /etc/mailpolicy/senders\n}\n",
	  "2:3: sender_map is only used with sender = map"),
	
	E("sender login with auth forbid",
	  "listener mx {\n  auth = forbid\n  sender = login_domain\n}\n",
	  "3:3: sender = login_domain needs a login, but auth = forbid"),
	E("mechanisms with auth forbid",
	  "listener mx {\n  auth_mechanisms = PLAIN\n  auth = forbid\n}\n",
	  "2:3: auth_mechanisms conflicts with auth = forbid"),
	E("rate_login with auth forbid",
	  "listener mx {\n  auth = forbid\n  rate_login = 10/1h\n}\n",
	  "3:3: rate_login counts logins, but auth = forbid"),
	E("invalid cidr",
	  "listener mx {\n  allowed_clients = 192.0.2.0/24 10.0.0.300\n}\n",
	  "2:34: allowed_clients \"10.0.0.300\": invalid IP address"),
	E("cidr host bits",
	  "listener mx {\n  allowed_clients = 192.0.2.1/24\n}\n",
	  "2:21: allowed_clients \"192.0.2.1/24\": invalid network: host bits "
	  "set (the address is not the network's first)"),
	E("cidr prefix",
	  "listener mx {\n  allowed_clients = 2001:db8::/129\n}\n",
	  "2:21: allowed_clients \"2001:db8::/129\": invalid network: prefix "
	  "length over 128 for IPv6"),
	E("max_recipients negative", "listener mx {\n  max_recipients = -1\n}\n",
	  "2:20: max_recipients \"-1\": invalid number: not a decimal number"),
	E("max_recipients too large",
	  "listener mx {\n  max_recipients = 4294967296\n}\n",
	  "2:20: max_recipients \"4294967296\": invalid number: out of range"),
	E("max_message_size", "listener mx {\n  max_message_size = 25 M\n}\n",
	  "2:25: max_message_size \"M\": unexpected extra value"),
	E("rate 0/1h", "listener mx {\n  rate_client_ip = 0/1h\n}\n",
	  "2:20: rate_client_ip \"0/1h\": invalid rate: count must be at "
	  "least 1"),
	E("rate over 0s", "listener mx {\n  rate_sender = 10/0s\n}\n",
	  "2:17: rate_sender \"10/0s\": invalid rate: duration must be longer "
	  "than 0"),
	E("rate never", "listener mx {\n  rate_login = 200/never\n}\n",
	  "2:16: rate_login \"200/never\": invalid rate: duration cannot be "
	  "never"),
	E("rate without slash", "listener mx {\n  rate_login = 200\n}\n",
	  "2:16: rate_login \"200\": invalid rate: expected COUNT/DURATION, "
	  "e.g. 200/1h"),

	/* ---- values: milter ---- */
	E("socket type", "milter {\n  socket = tcp:8893\n}\n",
	  "2:12: socket \"tcp:8893\": unknown socket type (use unix:/PATH, "
	  "inet:PORT@HOST or inet6:PORT@HOST)"),
	E("socket port", "milter {\n  socket = inet:88930@127.0.0.1\n}\n",
	  "2:12: socket \"inet:88930@127.0.0.1\": invalid port: out of range "
	  "(1-65535)"),
	E("socket host", "milter {\n  socket = inet:8893@\n}\n",
	  "2:12: socket \"inet:8893@\": missing host after '@'"),
	E("socket relative", "milter {\n  socket = unix:milter.sock\n}\n",
	  "2:12: socket \"unix:milter.sock\": needs an absolute path "
	  "(unix:/PATH)"),
	E("unknown_listener", "milter {\n  unknown_listener = defer\n}\n",
	  "2:22: unknown_listener \"defer\": unknown value (use accept, reject "
	  "or tempfail)"),
	E("mode", "milter {\n  mode = dry-run\n}\n",
	  "2:10: mode \"dry-run\": unknown value (use enforce or report)"),
	E("audit_header", "milter {\n  audit_header = \"X Policy\"\n}\n",
	  "2:18: audit_header \"X Policy\": invalid header name (printable "
	  "ASCII without ':')"),
	E("audit_header colon", "milter {\n  audit_header = X-Policy:\n}\n",
	  "2:18: audit_header \"X-Policy:\": invalid header name (printable "
	  "ASCII without ':')"),
	E("hmac_key_file relative", "milter {\n  hmac_key_file = audit.key\n}\n",
	  "2:19: hmac_key_file \"audit.key\": not an absolute path"),
	E("rate_store unknown", "milter {\n  rate_store = memcached\n}\n",
	  "2:16: rate_store \"memcached\": unknown store (use memory, "
	  "redis://HOST:PORT/DB or unix:///PATH)"),
	E("rate_store no host", "milter {\n  rate_store = redis://\n}\n",
	  "2:16: rate_store \"redis://\": missing host (use "
	  "redis://HOST:PORT/DB)"),
	E("rate_store no host before port",
	  "milter {\n  rate_store = redis://:6379/0\n}\n",
	  "2:16: rate_store \"redis://:6379/0\": missing host (use "
	  "redis://HOST:PORT/DB)"),
	E("rate_store port", "milter {\n  rate_store = redis://r1:0/0\n}\n",
	  "2:16: rate_store \"redis://r1:0/0\": invalid port: out of range "
	  "(1-65535)"),
	E("rate_store empty port", "milter {\n  rate_store = redis://r1:/0\n}\n",
	  "2:16: rate_store \"redis://r1:/0\": invalid port (use "
	  "redis://HOST:PORT/DB)"),
	E("rate_store db", "milter {\n  rate_store = redis://r1:6379/x\n}\n",
	  "2:16: rate_store \"redis://r1:6379/x\": invalid number: not a "
	  "decimal number"),
	E("rate_store empty db", "milter {\n  rate_store = redis://r1:6379/\n}\n",
	  "2:16: rate_store \"redis://r1:6379/\": invalid database number "
	  "(use redis://HOST:PORT/DB)"),
	E("rate_store trailing",
	  "milter {\n  rate_store = redis://r1:6379/0/1\n}\n",
	  "2:16: rate_store \"redis://r1:6379/0/1\": invalid number: "
	  "trailing characters"),
	E("rate_store password",
	  "milter {\n  rate_store = redis://user:pw@r1:6379/0\n}\n",
	  "2:16: rate_store \"redis://****@r1:6379/0\": user names are not "
	  "supported (Redis AUTH takes a password: redis://:PASSWORD@HOST)"),
	E("rate_store empty password",
	  "milter {\n  rate_store = redis://:@r1\n}\n",
	  "2:16: rate_store \"redis://:@r1\": empty password (leave out ':@' "
	  "for none)"),
	E("rate_store bad escape",
	  "milter {\n  rate_store = redis://:a%4@r1\n}\n",
	  "2:16: rate_store \"redis://:****@r1\": invalid %-escape in the "
	  "password (%XX, e.g. %40 for '@')"),
	E("rate_store nul escape",
	  "milter {\n  rate_store = redis://:a%00@r1\n}\n",
	  "2:16: rate_store \"redis://:****@r1\": NUL byte in the password"),
	E("rate_store slash in password",
	  "milter {\n  rate_store = redis://:a/b@r1\n}\n",
	  "2:16: rate_store \"redis://:****@r1\": escape '/', '?', '#', '[', "
	  "']' and spaces in the password as %XX"),
	/* an error never quotes the password: it goes to the logs of
	   every process that loads the policy */
	E("rate_store port with password",
	  "milter {\n  rate_store = redis://:s3cret@r1:0/0\n}\n",
	  "2:16: rate_store \"redis://:****@r1:0/0\": invalid port: out of "
	  "range (1-65535)"),
	E("rate_store db with password",
	  "milter {\n  rate_store = redis://:s3cret@r1:6379/0/1\n}\n",
	  "2:16: rate_store \"redis://:****@r1:6379/0/1\": invalid number: "
	  "trailing characters"),
	E("rate_store unix with password",
	  "milter {\n  rate_store = unix://:s3cret@run/redis.sock\n}\n",
	  "2:16: rate_store \"unix://:****@run/redis.sock\": needs an "
	  "absolute socket path (unix:///PATH)"),
	E("rate_store '@' in the password",
	  "milter {\n  rate_store = redis://:s3@cret@r1\n}\n",
	  "2:16: rate_store \"redis://:****@r1\": invalid host: it has an "
	  "'@' (escape an '@' in the password as %40)"),
	E("rate_store host label",
	  "milter {\n  rate_store = redis://-r1.example\n}\n",
	  "2:16: rate_store \"redis://-r1.example\": invalid host: label "
	  "starts or ends with '-'"),
	E("rate_store host ipv4",
	  "milter {\n  rate_store = redis://10.0.0.256:6379\n}\n",
	  "2:16: rate_store \"redis://10.0.0.256:6379\": invalid host: "
	  "invalid IPv4 address"),
	E("rate_store host octal",
	  "milter {\n  rate_store = redis://010.0.0.1\n}\n",
	  "2:16: rate_store \"redis://010.0.0.1\": invalid host: invalid "
	  "IPv4 address"),
	E("rate_store host non-ascii",
	  "milter {\n  rate_store = redis://b\xc3\xbc" "cher.de\n}\n",
	  "2:16: rate_store \"redis://b\xc3\xbc" "cher.de\": invalid host: "
	  "non-ASCII (write the A-label, xn--...)"),
	E("rate_store host chars",
	  "milter {\n  rate_store = redis://r1,r2\n}\n",
	  "2:16: rate_store \"redis://r1,r2\": invalid host: use letters, "
	  "digits, '-', '_' and '.'"),
	E("rate_store ipv6 without brackets",
	  "milter {\n  rate_store = redis://fe80::1:6379\n}\n",
	  "2:16: rate_store \"redis://fe80::1:6379\": write an IPv6 host in "
	  "brackets (redis://[ADDR]:PORT/DB)"),
	E("rate_store ipv4 in brackets",
	  "milter {\n  rate_store = redis://[127.0.0.1]\n}\n",
	  "2:16: rate_store \"redis://[127.0.0.1]\": invalid host: IPv4 "
	  "address not allowed here"),
	E("rate_store unix relative",
	  "milter {\n  rate_store = unix://run/redis.sock\n}\n",
	  "2:16: rate_store \"unix://run/redis.sock\": needs an absolute "
	  "socket path (unix:///PATH)"),
	E("rate_store unix empty",
	  "milter {\n  rate_store = unix:///\n}\n",
	  "2:16: rate_store \"unix:///\": missing socket path (unix:///PATH)"),
	E("rate_store unix query",
	  "milter {\n  rate_store = \"unix:///r.sock?database=1\"\n}\n",
	  "2:16: rate_store \"unix:///r.sock?database=1\": unknown query "
	  "(only ?db=DB)"),
	E("rate_store unix db",
	  "milter {\n  rate_store = \"unix:///r.sock?db=x\"\n}\n",
	  "2:16: rate_store \"unix:///r.sock?db=x\": invalid number: not a "
	  "decimal number"),
	E("rate_store unix long path",
	  "milter {\n  rate_store = unix:///"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n}\n",
	  "2:16: rate_store \"unix:///aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaa...\": socket path longer than 107 bytes"),
	E("redis_password_file relative",
	  "milter {\n  redis_password_file = redis.pass\n}\n",
	  "2:25: redis_password_file \"redis.pass\": not an absolute path"),
	E("redis_password_file without redis",
	  "milter {\n  redis_password_file = /etc/redis.pass\n}\n",
	  "2:3: redis_password_file is only used with a redis rate_store"),
	E("redis password twice",
	  "milter {\n  rate_store = redis://:pw@r1\n"
	  "  redis_password_file = /etc/redis.pass\n}\n",
	  "3:3: the rate_store URL has a password already (give it once; a "
	  "file only the milter reads is the safer place)"),
	E("socket host ipv4",
	  "milter {\n  socket = inet:8893@10.0.0.300\n}\n",
	  "2:12: socket \"inet:8893@10.0.0.300\": invalid host: invalid IPv4 "
	  "address"),
	E("socket inet with ipv6",
	  "milter {\n  socket = inet:8893@[::1]\n}\n",
	  "2:12: socket \"inet:8893@[::1]\": invalid host: IPv6 address not "
	  "allowed here"),
	E("socket inet6 with ipv4",
	  "milter {\n  socket = inet6:8893@127.0.0.1\n}\n",
	  "2:12: socket \"inet6:8893@127.0.0.1\": invalid host: IPv4 address "
	  "not allowed here"),
	/* the Redis store refuses limits and windows from 2^52 on */
	E("rate at 2^52",
	  "listener mx {\n  rate_sender = 4503599627370496/1h\n}\n",
	  "2:17: rate_sender \"4503599627370496/1h\": invalid rate: count "
	  "above 4503599627370495 = 2^52 - 1 (more than the Redis store "
	  "counts exactly)"),
	E("rate window at 2^52 ms",
	  "listener mx {\n  rate_client_ip = 1/7446428w\n}\n",
	  "2:20: rate_client_ip \"1/7446428w\": invalid rate: duration above "
	  "4503599627370s, under 2^52 ms (longer than the Redis store counts "
	  "exactly)"),
	E("ipv6 prefix range",
	  "listener mx {\n  rate_client_ip = 1/1h\n"
	  "  rate_client_ipv6_prefix = 129\n}\n",
	  "3:29: rate_client_ipv6_prefix \"129\": a prefix length is 1 to 128"),
	E("ipv6 prefix zero",
	  "listener mx {\n  rate_client_ip = 1/1h\n"
	  "  rate_client_ipv6_prefix = 0\n}\n",
	  "3:29: rate_client_ipv6_prefix \"0\": a prefix length is 1 to 128"),
	E("ipv6 prefix without rate",
	  "listener mx {\n  rate_client_ipv6_prefix = 48\n}\n",
	  "2:3: rate_client_ipv6_prefix is only used with rate_client_ip or "
	  "rate_client_ip_recipients"),
	E("ipv6 prefix with an unlimited rate",
	  "listener mx {\n  rate_client_ip = unlimited\n"
	  "  rate_client_ipv6_prefix = 48\n}\n",
	  "3:3: rate_client_ipv6_prefix is only used with rate_client_ip or "
	  "rate_client_ip_recipients"),

	/* ---- rate keys: several windows (issue 12) ---- */
	E("too many windows",
	  "listener mx {\n  rate_login = 1/1s 2/1m 3/1h 4/1d 5/1w\n}\n",
	  "2:36: rate_login \"5/1w\": too many windows (at most 4 per key)"),
	E("same window twice",
	  "listener mx {\n  rate_sender = 10/1h 20/60m\n}\n",
	  "2:23: rate_sender \"20/60m\": a second 1h window (first 10/1h; "
	  "give each window once)"),
	/* the shorter window is at fault, wherever it is written */
	E("shorter window with a larger count",
	  "listener mx {\n  rate_client_ip = 100/1d 1000/1h\n}\n",
	  "2:27: rate_client_ip \"1000/1h\": never trips before the longer "
	  "1d window 100/1d (a shorter window needs a smaller count)"),
	E("shorter window with the same count",
	  "listener mx {\n  rate_domain = 100/1h 100/1d\n}\n",
	  "2:17: rate_domain \"100/1h\": never trips before the longer 1d "
	  "window 100/1d (a shorter window needs a smaller count)"),
	E("unlimited with a window",
	  "listener mx {\n  rate_login_recipients = 10/1h unlimited\n}\n",
	  "2:33: rate_login_recipients \"unlimited\": unlimited stands alone "
	  "(it cannot go with windows)"),
	E("bad second window",
	  "listener mx {\n  rate_domain_recipients = 10/1h 5/0s\n}\n",
	  "2:34: rate_domain_recipients \"5/0s\": invalid rate: duration must "
	  "be longer than 0"),
	E("recipient rate without slash",
	  "listener mx {\n  rate_sender_recipients = 50\n}\n",
	  "2:28: rate_sender_recipients \"50\": invalid rate: expected "
	  "COUNT/DURATION, e.g. 200/1h"),
	E("rate_domain with auth forbid",
	  "listener mx {\n  auth = forbid\n  rate_domain = 10/1h\n}\n",
	  "3:3: rate_domain counts the logins' domains, but auth = forbid"),
	E("rate_domain_recipients with auth forbid",
	  "listener mx {\n  rate_domain_recipients = 10/1h\n  auth = forbid\n"
	  "}\n",
	  "2:3: rate_domain_recipients counts the logins' domains, but auth = "
	  "forbid"),
	E("rate_login_recipients with auth forbid",
	  "listener mx {\n  auth = forbid\n  rate_login_recipients = 1/1h\n"
	  "}\n",
	  "3:3: rate_login_recipients counts logins, but auth = forbid"),
	/* the first in the file, not the first in some table */
	E("rate_map with auth forbid",
	  "listener mx {\n  auth = forbid\n  rate_map = /nonexistent\n"
	  "  rate_login = 1/1h\n}\n",
	  "3:3: rate_map sets limits per login, but auth = forbid"),
	E("rate_map two files",
	  "listener mx {\n  rate_map = a b\n}\n",
	  "2:16: rate_map \"b\": unexpected extra value"),

	/* ---- over_limit, header_from, add_audit_header ---- */
	E("unknown over_limit",
	  "listener mx {\n  rate_login = 1/1h\n  over_limit = bounce\n}\n",
	  "3:16: over_limit \"bounce\": unknown value (use tempfail, reject "
	  "or hold)"),
	E("over_limit without limits",
	  "listener mx {\n  over_limit = hold\n}\n",
	  "2:3: over_limit is only used with rate limits (a rate_* key, or a "
	  "rate_map that sets one)"),
	E("over_limit with only unlimited",
	  "listener mx {\n  rate_login = unlimited\n  over_limit = reject\n"
	  "}\n",
	  "3:3: over_limit is only used with rate limits (a rate_* key, or a "
	  "rate_map that sets one)"),
	E("unknown header_from",
	  "listener mx {\n  header_from = envelope\n}\n",
	  "2:17: header_from \"envelope\": unknown value (use any or "
	  "match_sender)"),
	E("header_from without a sender check",
	  "listener mx {\n  header_from = match_sender\n  sender = any\n}\n",
	  "2:3: header_from = match_sender needs a sender check (sender = "
	  "login, login_domain or map)"),
	E("unknown add_audit_header",
	  "listener mx {\n  add_audit_header = off\n}\n",
	  "2:22: add_audit_header \"off\": unknown value (use yes or no)"),
	E("add_audit_header twice",
	  "listener mx {\n  add_audit_header = no\n  add_audit_header = no\n"
	  "}\n",
	  "3:3: duplicate key \"add_audit_header\" (first at line 2)"),

	/* ---- alert_command ---- */
	E("alert_command relative",
	  "milter {\n  alert_command = panel-lock --now\n}\n",
	  "2:19: alert_command \"panel-lock\": not an absolute path"),
	E("alert_command empty",
	  "milter {\n  alert_command = \"\"\n}\n",
	  "2:19: alert_command \"\": not an absolute path"),
	E("alert_command too long",
	  "milter {\n  alert_command = /bin/x a a a a a a a a a a a a a a a a "
	  "a a a a a a a a a a a a a a a a\n}\n",
	  "2:88: alert_command \"a\": too many words (at most 32: the command "
	  "and its arguments)"),
	E("too many mechanisms",
	  "listener mx {\n  auth_mechanisms = A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 "
	  "A11 A12 A13 A14 A15 A16 A17 A18 A19 A20 A21 A22 A23 A24 A25 A26 A27 "
	  "A28 A29 A30 A31 A32 A33 A34 A35 A36 A37 A38 A39 A40 A41 A42 A43 A44 "
	  "A45 A46 A47 A48 A49 A50 A51 A52 A53 A54 A55 A56 A57 A58 A59 A60 A61 "
	  "A62 A63 A64 A65\n}\n",
	  "2:268: auth_mechanisms \"A65\": too many mechanisms (limit 64)"),
	E("rate_store query",
	  "milter {\n  rate_store = redis://r1?timeout=1\n}\n",
	  "2:34: unexpected '=' in a value (quote values that contain it)"),
	E("rate_store ipv6", "milter {\n  rate_store = redis://[::1\n}\n",
	  "2:16: rate_store \"redis://[::1\": missing ']' after the IPv6 "
	  "address"),
	E("rate_store_failure reject",
	  "milter {\n  rate_store_failure = reject\n}\n",
	  "2:24: rate_store_failure \"reject\": unknown value (use accept or "
	  "tempfail)"),
	E("empty string where a word is needed",
	  "milter {\n  mode = \"\"\n}\n",
	  "2:10: mode \"\": unknown value (use enforce or report)"),
	E("first error wins",
	  "listener mx {\n  auth = maybe\n  foo = bar\n}\nbogus {\n",
	  "2:10: auth \"maybe\": unknown value (use require, optional or "
	  "forbid)"),
};

static void test_error_case(void **state)
{
	const struct error_case *c = *state;
	struct mp_policy *policy = (void *)1;
	struct mp_error error;
	char expected[MP_ERROR_MAX + 8];
	unsigned int line, col;

	snprintf(expected, sizeof(expected), "t:%s", c->error);
	if (mp_policy_load_string(NULL, "t", c->input, c->size, &policy,
				  &error) == 0) {
		mp_policy_unref(&policy);
		fail_msg("%s: loaded, expected %s", c->name, expected);
	}
	assert_null(policy);
	if (strcmp(error.text, expected) != 0)
		fail_msg("%s:\n   got \"%s\"\nwanted \"%s\"", c->name,
			 error.text, expected);
	/* line and column as numbers too */
	assert_int_equal(sscanf(c->error, "%u:%u:", &line, &col), 2);
	assert_int_equal(error.line, line);
	assert_int_equal(error.column, col);
}

/* ---- not about a place in the file ---- */

static void test_missing_file(void **state)
{
	struct mp_policy *policy = (void *)1;
	struct mp_error error;

	(void)state;
	assert_int_equal(mp_policy_load_file(NULL, "/nonexistent/mp.conf",
					     &policy, &error), -1);
	assert_null(policy);
	assert_string_equal(error.text, "/nonexistent/mp.conf: cannot open: "
			    "No such file or directory");
	assert_int_equal(error.line, 0);
	assert_int_equal(error.column, 0);
	/* a NULL error_r is allowed */
	assert_int_equal(mp_policy_load_file(NULL, "/nonexistent/mp.conf",
					     &policy, NULL), -1);
}

static void test_too_large(void **state)
{
	struct mp_policy *policy;
	struct mp_error error;
	char c = '#';

	(void)state;
	/* the size is checked before any byte is read */
	assert_int_equal(mp_policy_load_string(NULL, "big", &c,
					       MP_POLICY_MAX_FILE_SIZE + 1,
					       &policy, &error), -1);
	assert_string_equal(error.text,
			    "big: file too large (limit 67108864 bytes)");
}

/* A line of exactly MP_POLICY_MAX_LINE bytes (CR not counted) loads. */
static void test_line_limit(void **state)
{
	struct mp_policy *policy;
	struct mp_error error;
	char *text;

	(void)state;
	text = malloc(MP_POLICY_MAX_LINE + 3);
	memset(text, 'x', MP_POLICY_MAX_LINE);
	text[0] = '#';
	text[MP_POLICY_MAX_LINE] = '\r';
	text[MP_POLICY_MAX_LINE + 1] = '\n';
	assert_int_equal(mp_policy_load_string(NULL, "t", text,
					       MP_POLICY_MAX_LINE + 2, &policy,
					       &error), 0);
	mp_policy_unref(&policy);
	text[MP_POLICY_MAX_LINE] = 'x';
	assert_int_equal(mp_policy_load_string(NULL, "t", text,
					       MP_POLICY_MAX_LINE + 2, &policy,
					       &error), -1);
	assert_string_equal(error.text,
			    "t:1:4097: line too long (limit 4096 bytes)");
	free(text);
}

/* MP_POLICY_MAX_FOLDER_RULES, per block and with inherited rules. */
static void test_folder_rule_limit(void **state)
{
	struct mp_policy *policy;
	struct mp_error error;
	size_t size = 256 * 1024, len = 0;
	char *text = malloc(size);
	unsigned int i;

	(void)state;
	len += (size_t)snprintf(text + len, size - len, "folder_quota {\n");
	for (i = 0; i < 257; i++)
		len += (size_t)snprintf(text + len, size - len,
					"  folder F%u {\n  }\n", i);
	assert_int_equal(mp_policy_load_string(NULL, "t", text, len, &policy,
					       &error), -1);
	/* rule 257 opens on line 2 + 2 * 256 */
	assert_string_equal(error.text, "t:514:10: too many folder rules in "
			    "one block (limit 256)");

	len = 0;
	len += (size_t)snprintf(text + len, size - len, "folder_quota {\n");
	for (i = 0; i < 200; i++)
		len += (size_t)snprintf(text + len, size - len,
					"  folder D%u {\n  }\n", i);
	len += (size_t)snprintf(text + len, size - len,
				"}\nfolder_quota user u@x.org {\n");
	for (i = 0; i < 56; i++)
		len += (size_t)snprintf(text + len, size - len,
					"  folder U%u {\n  }\n", i);
	len += (size_t)snprintf(text + len, size - len, "  folder D1 {\n  }\n");
	len += (size_t)snprintf(text + len, size - len, "}\n");
	/* 200 + 56 new patterns fit, D1 merges: loads */
	if (mp_policy_load_string(NULL, "t", text, len, &policy, &error) < 0)
		fail_msg("%s", error.text);
	assert_int_equal(mp_policy_folder_rule_count(policy, "u@x.org"), 256);
	mp_policy_unref(&policy);
	len -= 2;
	len += (size_t)snprintf(text + len, size - len,
				"  folder U56 {\n  }\n}\n");
	assert_int_equal(mp_policy_load_string(NULL, "t", text, len, &policy,
					       &error), -1);
	/* the 257th rule: U56, on line 1 + 2 * 200 + 2 + 2 * 57 + 1 */
	assert_string_equal(error.text, "t:518:10: too many folder rules for "
			    "user u@x.org (limit 256, inherited ones "
			    "included)");
	free(text);
}

int main(void)
{
	struct CMUnitTest *table;
	const struct CMUnitTest other[] = {
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_folder_rule_limit),
	};
	size_t i;
	int failed;

	table = calloc(N_ELEMENTS(cases), sizeof(*table));
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		table[i].name = cases[i].name;
		table[i].test_func = test_error_case;
		table[i].initial_state = (void *)&cases[i];
	}
	failed = _cmocka_run_group_tests("policy-errors", table,
					 N_ELEMENTS(cases), NULL, NULL);
	failed += cmocka_run_group_tests_name("policy-errors-file", other,
					      NULL, NULL);
	free(table);
	return failed == 0 ? 0 : 1;
}
