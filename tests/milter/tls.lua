-- tls = require and min_tls = TLSv1.2 on submission.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")

for _, case in ipairs({ { nil, "tls: 530 5.7.0" }, { "TLSv1.1", "min_tls: 530 5.7.0" },
		{ "TLSv1.2", "continue" }, { "TLSv1.3", "continue" } }) do
	local m = { ["{daemon_name}"] = "submission", ["{client_addr}"] = "192.0.2.1",
		["{auth_authen}"] = "alice@example.com", ["{auth_type}"] = "PLAIN" }
	if case[1] ~= nil then
		m["{tls_version}"] = case[1]
	end
	local c = lib.session(m)
	lib.expect_mail("tls " .. tostring(case[1]), c, "<alice@example.com>", case[2])
	mt.disconnect(c)
end
