package web

import (
	"github.com/sessionshq/sessions/internal/analytics"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/video"
)

// routes is the whole route table, in three classes (handler.go):
// s.page for a person's browser (HTML, the session cookie, writes only
// from our own origin), s.api for programs (JSON, bearer tokens, no
// cookie-borne writes) and s.script for the JSON our own pages' scripts
// call with the session cookie (writes only from our own origin). Staff
// console routes are wrapped in s.can(permission), which refuses early
// what the service behind the handler refuses anyway (staff.go).
func (s *Server) routes() {
	// Probes and assets.
	s.page("GET /healthz", s.healthz)
	s.page("GET /readyz", s.readyz)
	s.page("GET /static/{file}", s.static)

	// Shell pages: the start page is a member's meetings (and the
	// product's front page for anyone else); a meeting that starts now;
	// the time zone a member's times are shown in.
	s.page("GET /{$}", s.homePage)
	s.page("POST /meetings/instant", s.member(s.instantMeetingForm))
	s.page("POST /account/timezone", s.member(s.timeZoneForm))
	// The console's landing page checks the role itself: a member whose
	// roles wait for two-step sign-in is told how to turn it on.
	s.page("GET /admin", s.member(s.adminPage))

	// Privacy centre, data map and sub-processors.
	s.page("GET /privacy", s.privacyPage)
	s.page("GET /privacy/subprocessors", s.subprocessorsPage)
	s.page("GET /privacy/record", s.recordPage)
	s.page("GET /privacy/record/inventory", s.recordInventoryPage)
	s.api("GET /api/subprocessors", s.subprocessorsAPI)
	s.api("GET /api/datamap", s.datamapAPI)
	s.page("GET /admin/subprocessors", s.can(staff.EditSubprocessors)(s.adminSubprocessorsPage))
	s.page("POST /admin/subprocessors/{id}", s.can(staff.EditSubprocessors)(s.adminSubprocessorPost))
	s.api("GET /api/admin/subprocessors", s.can(staff.EditSubprocessors)(s.adminSubprocessorsAPI))
	s.api("PUT /api/admin/subprocessors/{id}", s.can(staff.EditSubprocessors)(s.adminSubprocessorPut))
	// Where each sub-processor takes the Art. 19 notices sent when a
	// person's data is rectified, erased or restricted: a privacy contact
	// or an https webhook, kept by the staff who keep the registry
	// (internal/web/recipients.go).
	s.page("GET /admin/recipients", s.can(staff.EditSubprocessors)(s.adminRecipientsPage))
	s.page("POST /admin/recipients/{id}", s.can(staff.EditSubprocessors)(s.adminRecipientPost))
	s.api("GET /api/admin/recipients", s.can(staff.EditSubprocessors)(s.apiRecipientContacts))
	s.api("PUT /api/admin/recipients/{id}", s.can(staff.EditSubprocessors)(s.apiRecipientContactPut))

	// Cookie tool, cookie notice and first-party analytics
	// (internal/web/cookies.go, analytics.go). Choices and events belong to
	// the browser that sends them, identified by its own cookies, so these
	// routes are open to anyone; staff see analytics only in aggregate.
	s.page("GET /privacy/cookies", s.cookieNoticePage)
	s.page("GET /cookies/settings", s.cookieSettingsPage)
	s.pageLimit("POST /cookies/choice", cookieChoiceLimit, s.throttled(s.cookieChoiceForm))
	s.api("GET /api/cookies", s.apiCookieRegistry)
	s.scriptLimit("POST /api/cookies/choice", cookieChoiceLimit, s.throttled(s.apiCookieChoice))
	s.scriptLimit("POST /api/analytics/events", analytics.MaxBody, s.throttled(s.analyticsCollect))
	s.page("GET /admin/analytics", s.can(staff.ViewAnalytics)(s.analyticsPage))
	s.api("GET /api/admin/analytics", s.can(staff.ViewAnalytics)(s.apiAnalytics))

	// Consent ledger, purpose gate and Global Privacy Control
	// (internal/web/consent.go): the published schema of consent receipts,
	// the GPC declaration, the member's consents with one-click withdrawal
	// and receipts, and the restriction flag for staff who handle rights
	// requests.
	s.page("GET /.well-known/gpc.json", s.gpcWellKnown)
	s.page("GET /privacy/consent-receipt.schema.json", s.receiptSchema)
	s.page("GET /account/consents", s.member(s.consentsPage))
	s.page("POST /account/consents/{purpose}/withdraw", s.member(s.consentWithdrawForm))
	s.page("GET /account/consents/receipts.json", s.member(s.receiptsDownload))
	s.api("GET /api/me/consents", s.member(s.apiMyConsents))
	s.api("POST /api/me/consents", s.member(s.apiRecordConsent))
	s.api("PUT /api/admin/people/{id}/restriction", s.can(staff.HandleRightsRequests)(s.apiSetRestriction))

	// Privacy notice (internal/web/notice.go): the current version, the
	// public history and each earlier version, open to anyone; the
	// acknowledgement of a significant change by a signed-in member; and
	// publishing, for staff who may publish the notice.
	s.page("GET /privacy/notice", s.noticePage)
	s.page("GET /privacy/notice/history", s.noticeHistoryPage)
	s.page("GET /privacy/notice/v/{n}", s.noticeVersionPage)
	s.api("GET /api/notice", s.noticeAPI)
	s.api("GET /api/notice/versions", s.noticeVersionsAPI)
	s.page("POST /privacy/notice/acknowledge", s.member(s.noticeAcknowledgeForm))
	s.api("POST /api/me/notice/acknowledge", s.member(s.apiNoticeAcknowledge))
	s.page("GET /admin/notice", s.can(staff.PublishNotice)(s.adminNoticePage))
	s.page("POST /admin/notice", s.can(staff.PublishNotice)(s.adminNoticePost))
	s.api("GET /api/admin/notice", s.can(staff.PublishNotice)(s.apiAdminNotice))
	s.api("POST /api/admin/notice", s.can(staff.PublishNotice)(s.apiAdminNoticePublish))

	// Mail outbox.
	s.page("GET /admin/outbox", s.can(staff.OperateOutbox)(s.outboxPage))
	s.page("GET /admin/outbox/{id}", s.canEither(staff.OperateOutbox, staff.ReadMail)(s.outboxMessagePage))
	s.page("POST /admin/outbox/{id}", s.can(staff.ReadMail)(s.outboxMessagePost))
	s.page("POST /admin/outbox/{id}/retry", s.can(staff.OperateOutbox)(s.outboxRetryForm))
	s.api("GET /api/admin/outbox", s.can(staff.OperateOutbox)(s.apiOutboxList))
	s.api("GET /api/admin/outbox/{id}", s.can(staff.OperateOutbox)(s.apiOutboxGet))
	s.api("POST /api/admin/outbox/{id}/view", s.can(staff.ReadMail)(s.apiOutboxView))
	s.api("POST /api/admin/outbox/{id}/retry", s.can(staff.OperateOutbox)(s.apiOutboxRetry))

	// Audit log.
	s.page("GET /admin/audit", s.can(staff.ReadAuditLog)(s.auditPage))
	s.api("GET /api/admin/audit/verify", s.can(staff.ReadAuditLog)(s.auditVerify))

	// Accounts: sign-up, sign-in (with the second step), sign-out,
	// e-mailed links and the security settings (internal/web/auth_*.go).
	// Signing up, in and the links are open to anyone; the rest needs a
	// signed-in member.
	s.page("GET /signup", s.signUpPage)
	s.page("POST /signup", s.signUpForm)
	s.page("GET /signin", s.signInPage)
	s.page("POST /signin", s.signInForm)
	s.page("GET /signin/code", s.signInCodePage)
	s.page("POST /signin/code", s.signInCodeForm)
	s.page("POST /signout", s.signOutForm)
	s.page("GET /verify-email", s.verifyEmailPage)
	s.page("POST /verify-email", s.verifyEmailForm)
	s.page("POST /verify-email/resend", s.member(s.resendVerificationForm))
	s.page("GET /forgot-password", s.forgotPasswordPage)
	s.page("POST /forgot-password", s.forgotPasswordForm)
	s.page("GET /reset-password", s.resetPasswordPage)
	s.page("POST /reset-password", s.resetPasswordForm)
	s.page("GET /confirm-email", s.confirmEmailPage)
	s.page("POST /confirm-email", s.confirmEmailForm)
	s.page("GET /account/security", s.member(s.securityPage))
	s.page("POST /account/security/password", s.member(s.securityPasswordForm))
	s.page("POST /account/security/email", s.member(s.securityEmailForm))
	s.page("POST /account/security/totp/setup", s.member(s.securityTOTPSetupForm))
	s.page("POST /account/security/totp/enable", s.member(s.securityTOTPEnableForm))
	s.page("POST /account/security/totp/disable", s.member(s.securityTOTPDisableForm))
	s.page("POST /account/security/recovery-codes", s.member(s.securityRecoveryCodesForm))
	s.page("POST /account/security/sessions/{id}/end", s.member(s.securityEndSessionForm))
	s.page("POST /account/security/sessions/end-others", s.member(s.securityEndOthersForm))
	s.page("POST /account/security/tokens", s.member(s.securityTokenForm))
	s.page("POST /account/security/tokens/{id}/revoke", s.member(s.securityRevokeTokenForm))
	s.api("POST /api/signup", s.apiSignUp)
	s.api("GET /api/me", s.member(s.apiMe))
	s.api("GET /api/tokens", s.member(s.apiListTokens))
	// Making a token needs the browser's session and the password in the
	// same request (a script route: our own pages' scripts, same origin);
	// no token can make another.
	s.script("POST /api/tokens", s.member(s.apiCreateToken))
	s.api("DELETE /api/tokens/{id}", s.member(s.apiRevokeToken))

	// Organisations (workspaces), their members, invitations and DPA
	// acceptances. Every route needs a signed-in member; the role checks
	// are in the handlers (internal/web/orgs.go).
	s.page("GET /orgs", s.member(s.orgsPage))
	s.page("GET /orgs/new", s.member(s.orgsNewPage))
	s.page("POST /orgs", s.member(s.orgsCreateForm))
	s.page("GET /orgs/{id}", s.member(s.orgPage))
	s.page("POST /orgs/{id}/settings", s.member(s.orgSettingsForm))
	s.pageLimit("POST /orgs/{id}/logo", orgLogoBodyLimit, s.member(s.orgLogoForm))
	s.page("POST /orgs/{id}/logo/remove", s.member(s.orgLogoRemoveForm))
	s.page("GET /orgs/{id}/logo", s.member(s.orgLogoPage))
	s.page("POST /orgs/{id}/invitations", s.member(s.orgInviteForm))
	s.page("POST /orgs/{id}/invitations/{invID}/revoke", s.member(s.orgRevokeForm))
	s.page("POST /orgs/{id}/members/{accountID}/role", s.member(s.orgRoleForm))
	s.page("POST /orgs/{id}/members/{accountID}/remove", s.member(s.orgRemoveForm))
	s.page("POST /orgs/{id}/leave", s.member(s.orgLeaveForm))
	s.page("POST /orgs/{id}/dpa", s.member(s.orgDPAForm))
	s.page("POST /orgs/{id}/delete", s.member(s.orgDeleteForm))
	s.page("GET /invitations/{token}", s.member(s.invitationPage))
	s.page("POST /invitations/accept", s.member(s.invitationAcceptForm))
	s.api("GET /api/orgs", s.member(s.apiOrgsList))
	s.api("POST /api/orgs", s.member(s.apiOrgsCreate))
	s.api("GET /api/orgs/{id}", s.member(s.apiOrgGet))
	s.api("PATCH /api/orgs/{id}", s.member(s.apiOrgPatch))
	s.api("DELETE /api/orgs/{id}", s.member(s.apiOrgDelete))
	s.api("GET /api/orgs/{id}/logo", s.member(s.apiOrgLogoGet))
	s.apiLimit("PUT /api/orgs/{id}/logo", orgLogoBodyLimit, s.member(s.apiOrgLogoPut))
	s.api("DELETE /api/orgs/{id}/logo", s.member(s.apiOrgLogoDelete))
	s.api("GET /api/orgs/{id}/members", s.member(s.apiOrgMembers))
	s.api("PATCH /api/orgs/{id}/members/{accountID}", s.member(s.apiOrgMemberPatch))
	s.api("DELETE /api/orgs/{id}/members/{accountID}", s.member(s.apiOrgMemberDelete))
	s.api("POST /api/orgs/{id}/leave", s.member(s.apiOrgLeave))
	s.api("GET /api/orgs/{id}/invitations", s.member(s.apiOrgInvitations))
	s.api("POST /api/orgs/{id}/invitations", s.member(s.apiOrgInvite))
	s.api("DELETE /api/orgs/{id}/invitations/{invID}", s.member(s.apiOrgInvitationDelete))
	s.api("POST /api/invitations/accept", s.member(s.apiInvitationAccept))
	s.api("GET /api/orgs/{id}/dpa", s.member(s.apiOrgDPA))
	s.api("POST /api/orgs/{id}/dpa", s.member(s.apiOrgDPAAccept))

	// Member area: the dashboard, the profile and its picture, a parent's
	// or guardian's confirmation of a child account, deactivation and
	// "delete my account" (internal/web/account.go).
	s.page("GET /account", s.member(s.accountPage))
	s.page("GET /account/profile", s.member(s.profilePage))
	s.page("POST /account/profile", s.member(s.profileForm))
	s.pageLimit("POST /account/avatar", avatarFormLimit, s.member(s.avatarForm))
	s.page("POST /account/avatar/remove", s.member(s.avatarRemoveForm))
	s.page("GET /account/avatar", s.member(s.avatarGet))
	s.page("POST /account/guardian", s.member(s.guardianForm))
	s.page("GET /account/close", s.member(s.closePage))
	s.page("POST /account/deactivate", s.member(s.deactivateForm))
	s.page("POST /account/delete", s.member(s.deleteForm))
	s.page("GET /account/closed", s.closedPage)
	s.page("GET /guardian/confirm", s.guardianPage)
	s.page("POST /guardian/confirm", s.throttled(s.guardianConfirm))
	s.api("GET /api/me/profile", s.member(s.profileGet))
	s.api("PUT /api/me/profile", s.member(s.profilePut))
	s.api("GET /api/me/avatar", s.member(s.avatarGet))
	s.apiLimit("PUT /api/me/avatar", avatarMaxBytes, s.member(s.avatarPut))
	s.api("DELETE /api/me/avatar", s.member(s.avatarDelete))
	s.api("POST /api/me/guardian", s.member(s.guardianAPI))
	s.api("POST /api/me/deactivate", s.member(s.deactivateAPI))
	s.api("POST /api/me/erasure", s.member(s.erasureAPI))

	// Staff console: looking people up (each look at a person's data
	// needs a reason and is written to the access log), staff roles, the
	// one-time setup of the first administrator, and the access log a
	// member reads about themselves (internal/web/staff.go).
	s.page("GET /admin/people", s.can(staff.LookUpPeople)(s.peoplePage))
	s.page("GET /admin/people/{id}", s.can(staff.ViewContact)(s.personReasonPage))
	s.page("POST /admin/people/{id}", s.can(staff.ViewContact)(s.personPost))
	s.api("GET /api/admin/people", s.can(staff.LookUpPeople)(s.apiPeople))
	s.api("POST /api/admin/people/{id}/view", s.can(staff.ViewContact)(s.apiPersonView))
	s.page("GET /admin/staff", s.can(staff.ManageStaff)(s.staffPage))
	s.page("POST /admin/staff", s.can(staff.ManageStaff)(s.staffGrantForm))
	s.page("POST /admin/staff/{id}/revoke", s.can(staff.ManageStaff)(s.staffRevokeForm))
	s.api("GET /api/admin/staff", s.can(staff.ManageStaff)(s.apiStaffList))
	s.api("POST /api/admin/staff", s.can(staff.ManageStaff)(s.apiStaffGrant))
	s.api("DELETE /api/admin/staff/{id}/roles/{role}", s.can(staff.ManageStaff)(s.apiStaffRevoke))
	s.page("GET /setup", s.setupPage)
	s.page("POST /setup", s.throttled(s.setupPost))
	s.page("GET /account/access-log", s.member(s.accessLogPage))
	s.api("GET /api/me/access-log", s.member(s.apiMyAccessLog))

	// Marketing (internal/web/marketing.go): a member's preferences per
	// channel and objections, the same preferences through the signed
	// link of a message without sign-in, the RFC 8058 one-click
	// unsubscribe (open to anyone holding a message's token, without
	// cookies), campaigns for staff who send marketing, and the queue of
	// objections to legitimate-interest processing.
	s.page("GET /account/marketing", s.member(s.marketingPage))
	s.page("POST /account/marketing", s.member(s.marketingForm))
	s.page("POST /account/marketing/objections", s.member(s.marketingObjectForm))
	s.api("GET /api/me/marketing", s.member(s.apiMarketingGet))
	s.api("PUT /api/me/marketing", s.member(s.apiMarketingPut))
	s.api("POST /api/me/objections", s.member(s.apiObjectionPost))
	s.page("GET /marketing/preferences/{token}", s.marketingLinkPage)
	s.page("POST /marketing/preferences/{token}", s.marketingLinkForm)
	s.page("POST /marketing/preferences/{token}/objections", s.marketingLinkObjectForm)
	s.page("GET /unsubscribe/{token}", s.unsubscribePage)
	s.page("POST /unsubscribe/{token}", s.throttled(s.unsubscribePost))
	s.page("GET /admin/campaigns", s.can(staff.SendMarketing)(s.campaignsPage))
	s.page("POST /admin/campaigns", s.can(staff.SendMarketing)(s.campaignCreateForm))
	s.page("GET /admin/campaigns/{id}", s.can(staff.SendMarketing)(s.campaignPage))
	s.page("POST /admin/campaigns/{id}/send", s.can(staff.SendMarketing)(s.campaignSendForm))
	s.page("GET /admin/objections", s.can(staff.HandleRightsRequests)(s.objectionsPage))
	s.page("POST /admin/objections/{id}", s.can(staff.HandleRightsRequests)(s.objectionDecideForm))

	// Meetings (internal/web/meetings.go): scheduling with recurrence,
	// participants and their invitations, the agenda and its templates,
	// and shared files and links. Every route needs a signed-in member;
	// what each may do with a meeting is checked in the store, and a
	// meeting they may not see is not found.
	s.page("GET /meetings", s.member(s.meetingsPage))
	s.page("GET /meetings/new", s.member(s.meetingsNewPage))
	s.page("POST /meetings", s.member(s.meetingsCreateForm))
	s.page("GET /meetings/{id}", s.member(s.meetingPage))
	s.page("POST /meetings/{id}", s.member(s.meetingEditForm))
	s.page("POST /meetings/{id}/cancel", s.member(s.meetingCancelForm))
	s.page("POST /meetings/{id}/delete", s.member(s.meetingDeleteForm))
	s.page("GET /meetings/{id}/calendar.ics", s.member(s.meetingCalendarPage))
	s.page("POST /meetings/{id}/participants", s.member(s.meetingInviteForm))
	s.page("POST /meetings/{id}/participants/{pid}/remove", s.member(s.meetingRemoveForm))
	s.page("POST /meetings/{id}/agenda", s.member(s.meetingAgendaForm))
	s.page("POST /meetings/{id}/agenda/{itemID}", s.member(s.meetingAgendaEditForm))
	s.page("POST /meetings/{id}/agenda/{itemID}/delete", s.member(s.meetingAgendaDeleteForm))
	s.page("POST /meetings/{id}/agenda/{itemID}/move", s.member(s.meetingAgendaMoveForm))
	s.page("POST /meetings/{id}/agenda/template", s.member(s.meetingTemplateForm))
	s.page("POST /meetings/{id}/agenda/apply", s.member(s.meetingApplyTemplateForm))
	s.pageLimit("POST /meetings/{id}/resources", meetingUploadLimit, s.member(s.meetingResourceForm))
	s.page("POST /meetings/{id}/resources/{rid}/delete", s.member(s.meetingResourceDeleteForm))
	s.page("GET /meetings/{id}/resources/{rid}", s.member(s.meetingFilePage))
	s.api("GET /api/meetings", s.member(s.apiMeetingsList))
	s.api("POST /api/meetings", s.member(s.apiMeetingsCreate))
	s.api("GET /api/meetings/{id}", s.member(s.apiMeetingGet))
	s.api("PATCH /api/meetings/{id}", s.member(s.apiMeetingPatch))
	s.api("DELETE /api/meetings/{id}", s.member(s.apiMeetingDelete))
	s.api("GET /api/meetings/{id}/calendar.ics", s.member(s.apiMeetingCalendar))
	s.api("GET /api/meetings/{id}/participants", s.member(s.apiParticipants))
	s.api("POST /api/meetings/{id}/participants", s.member(s.apiParticipantsInvite))
	s.api("PATCH /api/meetings/{id}/participants/{pid}", s.member(s.apiParticipantPatch))
	s.api("DELETE /api/meetings/{id}/participants/{pid}", s.member(s.apiParticipantDelete))
	s.api("GET /api/meetings/{id}/agenda", s.member(s.apiAgenda))
	s.api("POST /api/meetings/{id}/agenda", s.member(s.apiAgendaAdd))
	s.api("PATCH /api/meetings/{id}/agenda/{itemID}", s.member(s.apiAgendaPatch))
	s.api("DELETE /api/meetings/{id}/agenda/{itemID}", s.member(s.apiAgendaDelete))
	s.api("PUT /api/meetings/{id}/agenda/order", s.member(s.apiAgendaOrder))
	s.api("POST /api/meetings/{id}/agenda/from-template/{templateID}", s.member(s.apiAgendaFromTemplate))
	s.api("GET /api/agenda-templates", s.member(s.apiTemplates))
	s.api("POST /api/agenda-templates", s.member(s.apiTemplateCreate))
	s.api("GET /api/meetings/{id}/resources", s.member(s.apiResources))
	s.apiLimit("POST /api/meetings/{id}/resources", meetingUploadLimit, s.member(s.apiResourceAdd))
	s.api("GET /api/meetings/{id}/resources/{rid}", s.member(s.apiResourceGet))
	s.api("DELETE /api/meetings/{id}/resources/{rid}", s.member(s.apiResourceDelete))

	// Video calls (internal/web/calls.go): the door of a meeting's call
	// for members (signed in; the room page's script writes with the
	// session cookie, same-origin only) and for guests (their personal
	// link's token in the path, open to whoever holds it); what hosts and
	// co-hosts do (lobby, lock, mute, remove, end the call, questions answered,
	// attendance; checked in the handlers); the chat; the video server's
	// signed webhooks, which are not held to per-address limits since all
	// come from one server; and the embedded SFU's signalling, proxied on
	// our own origin.
	s.scriptLimit("POST /api/meetings/{id}/join", callBodyLimit, s.member(s.apiJoin))
	s.script("GET /api/meetings/{id}/join", s.member(s.pollJoin(s.memberAtDoor)))
	s.script("GET /api/meetings/{id}/lobby", s.member(s.apiLobby))
	s.script("POST /api/meetings/{id}/lobby/{pid}/admit", s.member(s.apiLobbyAdmit))
	s.script("POST /api/meetings/{id}/lobby/{pid}/deny", s.member(s.apiLobbyDeny))
	s.script("POST /api/meetings/{id}/lock", s.member(s.apiLock))
	s.script("POST /api/meetings/{id}/unlock", s.member(s.apiUnlock))
	s.script("POST /api/meetings/{id}/end", s.member(s.apiEndCall))
	s.script("POST /api/meetings/{id}/participants/{pid}/remove", s.member(s.apiRemove))
	s.script("POST /api/meetings/{id}/participants/{pid}/mute", s.member(s.apiMute))
	s.script("GET /api/meetings/{id}/messages", s.member(s.listMessages(s.memberAtDoor)))
	s.scriptLimit("POST /api/meetings/{id}/messages", callBodyLimit, s.member(s.postMessage(s.memberAtDoor)))
	s.script("POST /api/meetings/{id}/messages/{mid}/answered", s.member(s.apiAnswered))
	s.api("GET /api/meetings/{id}/attendance", s.member(s.apiAttendance))
	s.api("GET /api/meetings/{id}/live", s.member(s.apiLive))
	s.page("GET /j/{token}", s.guestLandingPage)
	s.pageLimit("POST /j/{token}", callBodyLimit, s.throttled(s.guestLandingForm))
	s.scriptLimit("POST /api/join/{token}", callBodyLimit, s.throttled(s.apiGuestJoin))
	s.script("GET /api/join/{token}", s.pollJoin(s.guestAtDoor))
	s.script("GET /api/join/{token}/messages", s.listMessages(s.guestAtDoor))
	s.scriptLimit("POST /api/join/{token}/messages", callBodyLimit, s.throttled(s.postMessage(s.guestAtDoor)))
	s.api("POST /api/livekit/webhook", s.livekitWebhook)
	for _, p := range video.SignalPaths {
		s.page("GET "+p, s.videoSignal)
	}

	// Meeting room (internal/web/room.go): the call page of a meeting the
	// signed-in member takes part in; guests reach the same page through
	// their personal link (GET /j/{token} above).
	s.page("GET /meetings/{id}/room", s.member(s.roomPage))

	// Data-subject rights (internal/web/rights.go): a member asks for a
	// copy of their data, whole or only what they gave, watches it being
	// built and downloads it through a signed link that works only for
	// them and expires after seven days. Deleting the account is on the
	// account pages; the erasure engine carries it out.
	s.page("GET /account/privacy", s.member(s.rightsPage))
	s.page("POST /account/exports", s.member(s.exportForm))
	s.page("GET /account/exports/{id}/download", s.member(s.exportDownload))
	s.api("POST /api/me/exports", s.member(s.apiExportPost))
	s.api("GET /api/me/exports/{id}", s.member(s.apiExportGet))
	// Direct transfer of the portability package to another service's
	// https address, after the member confirms; the address is refused
	// unless it leads to a public service, here and when sent.
	s.page("POST /account/transfers", s.member(s.transferForm))
	s.page("GET /account/transfers/{id}", s.member(s.transferPage))
	s.page("POST /account/transfers/{id}/confirm", s.member(s.transferConfirmForm))

	// Data-subject requests (internal/web/requests.go): a signed-in member
	// files a request carrying one or more rights and follows it; anyone
	// else files one on the public form, opened only once the code
	// e-mailed to them is typed (both rate-limited per address); staff
	// who handle rights requests record those that came by e-mail or
	// post, and work the queue: start, extend with reasons, complete,
	// refuse with reasons, lift a restriction after telling the person.
	s.page("GET /account/requests", s.member(s.requestsPage))
	s.page("POST /account/requests", s.member(s.requestsForm))
	s.page("GET /account/requests/{id}", s.member(s.requestPage))
	s.api("GET /api/me/requests", s.member(s.apiMyRequests))
	s.api("POST /api/me/requests", s.member(s.apiMyRequestPost))
	s.api("GET /api/me/requests/{id}", s.member(s.apiMyRequest))
	s.page("GET /privacy/request", s.publicRequestPage)
	s.page("POST /privacy/request", s.throttled(s.publicRequestForm))
	s.page("GET /privacy/request/{id}/verify", s.publicVerifyPage)
	s.page("POST /privacy/request/{id}/verify", s.throttled(s.publicVerifyForm))
	s.page("GET /admin/requests", s.can(staff.HandleRightsRequests)(s.requestsQueuePage))
	s.page("POST /admin/requests", s.can(staff.HandleRightsRequests)(s.requestsRecordForm))
	s.page("GET /admin/requests/{id}", s.can(staff.HandleRightsRequests)(s.staffRequestPage))
	s.page("POST /admin/requests/{id}/{action}", s.can(staff.HandleRightsRequests)(s.staffRequestStepForm))
	s.api("GET /api/admin/requests", s.can(staff.HandleRightsRequests)(s.apiRequestQueue))
	s.api("POST /api/admin/requests", s.can(staff.HandleRightsRequests)(s.apiRequestRecord))
	s.api("GET /api/admin/requests/{id}", s.can(staff.HandleRightsRequests)(s.apiRequestGet))
	s.api("POST /api/admin/requests/{id}/steps", s.can(staff.HandleRightsRequests)(s.apiRequestStep))

	// Retention (internal/web/retention.go): what a run would remove now,
	// the report of past runs, and legal holds, for the privacy officer.
	s.page("GET /admin/retention", s.can(staff.ReviewRetention)(s.retentionPage))
	s.page("GET /admin/retention/runs/{id}", s.can(staff.ReviewRetention)(s.retentionRunPage))
	s.page("POST /admin/retention/holds", s.can(staff.ManageLegalHolds)(s.holdForm))
	s.page("POST /admin/retention/holds/{id}/release", s.can(staff.ManageLegalHolds)(s.holdReleaseForm))
	s.api("GET /api/admin/retention/preview", s.can(staff.ReviewRetention)(s.apiRetentionPreview))
	s.api("GET /api/admin/retention/runs", s.can(staff.ReviewRetention)(s.apiRetentionRuns))
	s.api("GET /api/admin/retention/runs/{id}", s.can(staff.ReviewRetention)(s.apiRetentionRun))
	s.api("GET /api/admin/legal-holds", s.can(staff.ManageLegalHolds)(s.apiHolds))
	s.api("POST /api/admin/legal-holds", s.can(staff.ManageLegalHolds)(s.apiHoldCreate))
	s.api("POST /api/admin/legal-holds/{id}/release", s.can(staff.ManageLegalHolds)(s.apiHoldRelease))

	// API description.
	s.api("GET /api/openapi.json", s.openAPI)
}
