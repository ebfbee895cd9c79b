-- The consent ledger keeps only the browser and system family of a
-- choice, such as "Firefox on Linux", as the list of sign-in sessions
-- does: the full User-Agent string, kept for the five years of a record,
-- would help single a device out, and the evidence of a choice does not
-- need it. This reduces the records made before, with the same rules as
-- account.DescribeClient: the first browser and the first system whose
-- mark the string contains, "Browser" when no browser is recognised.
-- replace() is the case-sensitive substring test both engines share.
UPDATE consent_records SET user_agent =
    CASE
        WHEN replace(user_agent, 'Edg/', '') <> user_agent THEN 'Edge'
        WHEN replace(user_agent, 'OPR/', '') <> user_agent THEN 'Opera'
        WHEN replace(user_agent, 'Firefox/', '') <> user_agent THEN 'Firefox'
        WHEN replace(user_agent, 'Chromium/', '') <> user_agent THEN 'Chromium'
        WHEN replace(user_agent, 'Chrome/', '') <> user_agent THEN 'Chrome'
        WHEN replace(user_agent, 'Safari/', '') <> user_agent THEN 'Safari'
        WHEN replace(user_agent, 'curl/', '') <> user_agent THEN 'curl'
        ELSE 'Browser'
    END ||
    CASE
        WHEN replace(user_agent, 'Android', '') <> user_agent THEN ' on Android'
        WHEN replace(user_agent, 'iPhone', '') <> user_agent THEN ' on iOS'
        WHEN replace(user_agent, 'iPad', '') <> user_agent THEN ' on iPadOS'
        WHEN replace(user_agent, 'Windows', '') <> user_agent THEN ' on Windows'
        WHEN replace(user_agent, 'Mac OS X', '') <> user_agent THEN ' on macOS'
        WHEN replace(user_agent, 'CrOS', '') <> user_agent THEN ' on ChromeOS'
        WHEN replace(user_agent, 'Linux', '') <> user_agent THEN ' on Linux'
        ELSE ''
    END
WHERE user_agent IS NOT NULL AND user_agent <> '';
