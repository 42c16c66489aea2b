-- auth: require on submission (530 without a login), forbid on mx.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")

local base = { ["{daemon_name}"] = "submission", ["{tls_version}"] = "TLSv1.3",
	["{client_addr}"] = "192.0.2.1" }
local c = lib.session(base)
lib.expect_mail("submission without login", c, "<alice@example.com>", "auth: 530 5.7.0")
mt.disconnect(c)

base["{auth_authen}"] = "alice@example.com"
base["{auth_type}"] = "PLAIN"
c = lib.session(base)
lib.expect_mail("submission with login", c, "<alice@example.com>", "continue")
mt.disconnect(c)

c = lib.session({ ["{daemon_name}"] = "mx", ["{auth_authen}"] = "alice@example.com",
	["{client_addr}"] = "192.0.2.1" })
lib.expect_mail("mx with login", c, "<alice@example.com>", "auth: 550 5.7.1")
mt.disconnect(c)
c = lib.session({ ["{daemon_name}"] = "mx", ["{client_addr}"] = "192.0.2.1" })
lib.expect_mail("mx without login", c, "<x@remote.test>", "continue")
mt.disconnect(c)
