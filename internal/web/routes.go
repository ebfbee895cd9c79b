package web

import (
	"github.com/sessionshq/sessions/internal/analytics"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/video"
)

// routes is the whole route table. Browser pages and API routes are kept
// apart: everything under /api/ speaks JSON and problem+json, everything
// else renders HTML and is covered by cross-origin protection. Staff
// console routes are wrapped in s.can(permission): the staff roles that
// hold the permission (internal/staff) get through, see staff.go.
func (s *Server) routes() {
	// Probes and assets.
	s.handle("GET /healthz", s.healthz)
	s.handle("GET /readyz", s.readyz)
	s.handle("GET /static/{file}", s.static)

	// Shell pages.
	s.handle("GET /{$}", s.homePage)
	s.handle("GET /admin", s.can(staff.OpenConsole)(s.adminPage))

	// Privacy centre, data map and sub-processors.
	s.handle("GET /privacy", s.privacyPage)
	s.handle("GET /privacy/subprocessors", s.subprocessorsPage)
	s.handle("GET /privacy/record", s.recordPage)
	s.handle("GET /api/subprocessors", s.subprocessorsAPI)
	s.handle("GET /api/datamap", s.datamapAPI)
	s.handle("GET /admin/subprocessors", s.can(staff.EditSubprocessors)(s.adminSubprocessorsPage))
	s.handle("POST /admin/subprocessors/{id}", s.can(staff.EditSubprocessors)(s.adminSubprocessorPost))
	s.handle("GET /api/admin/subprocessors", s.can(staff.EditSubprocessors)(s.adminSubprocessorsAPI))
	s.handle("PUT /api/admin/subprocessors/{id}", s.can(staff.EditSubprocessors)(s.adminSubprocessorPut))
	// Where each sub-processor takes the Art. 19 notices sent when a
	// person's data is rectified, erased or restricted: a privacy contact
	// or an https webhook, kept by the staff who keep the registry
	// (internal/web/recipients.go).
	s.handle("GET /admin/recipients", s.can(staff.EditSubprocessors)(s.adminRecipientsPage))
	s.handle("POST /admin/recipients/{id}", s.can(staff.EditSubprocessors)(s.adminRecipientPost))
	s.handle("GET /api/admin/recipients", s.can(staff.EditSubprocessors)(s.apiRecipientContacts))
	s.handle("PUT /api/admin/recipients/{id}", s.can(staff.EditSubprocessors)(s.apiRecipientContactPut))

	// Cookie tool, cookie notice and first-party analytics
	// (internal/web/cookies.go, analytics.go). Choices and events belong to
	// the browser that sends them, identified by its own cookies, so these
	// routes are open to anyone; staff see analytics only in aggregate.
	s.handle("GET /privacy/cookies", s.cookieNoticePage)
	s.handle("GET /cookies/settings", s.cookieSettingsPage)
	s.handleLimit("POST /cookies/choice", cookieChoiceLimit, s.throttled(s.cookieChoiceForm))
	s.handle("GET /api/cookies", s.apiCookieRegistry)
	s.handleLimit("POST /api/cookies/choice", cookieChoiceLimit, s.throttled(s.apiCookieChoice))
	s.handleLimit("POST /api/analytics/events", analytics.MaxBody, s.throttled(s.analyticsCollect))
	s.handle("GET /admin/analytics", s.can(staff.ViewAnalytics)(s.analyticsPage))
	s.handle("GET /api/admin/analytics", s.can(staff.ViewAnalytics)(s.apiAnalytics))

	// Consent ledger, purpose gate and Global Privacy Control
	// (internal/web/consent.go): the published schema of consent receipts,
	// the GPC declaration, the member's consents with one-click withdrawal
	// and receipts, and the restriction flag for staff who handle rights
	// requests.
	s.handle("GET /.well-known/gpc.json", s.gpcWellKnown)
	s.handle("GET /privacy/consent-receipt.schema.json", s.receiptSchema)
	s.handle("GET /account/consents", s.member(s.consentsPage))
	s.handle("POST /account/consents/{purpose}/withdraw", s.member(s.consentWithdrawForm))
	s.handle("GET /account/consents/receipts.json", s.member(s.receiptsDownload))
	s.handle("GET /api/me/consents", s.member(s.apiMyConsents))
	s.handle("POST /api/me/consents", s.member(s.apiRecordConsent))
	s.handle("PUT /api/admin/people/{id}/restriction", s.can(staff.HandleRightsRequests)(s.apiSetRestriction))

	// Privacy notice (internal/web/notice.go): the current version, the
	// public history and each earlier version, open to anyone; the
	// acknowledgement of a significant change by a signed-in member; and
	// publishing, for staff who may publish the notice.
	s.handle("GET /privacy/notice", s.noticePage)
	s.handle("GET /privacy/notice/history", s.noticeHistoryPage)
	s.handle("GET /privacy/notice/v/{n}", s.noticeVersionPage)
	s.handle("GET /api/notice", s.noticeAPI)
	s.handle("GET /api/notice/versions", s.noticeVersionsAPI)
	s.handle("POST /privacy/notice/acknowledge", s.member(s.noticeAcknowledgeForm))
	s.handle("POST /api/me/notice/acknowledge", s.member(s.apiNoticeAcknowledge))
	s.handle("GET /admin/notice", s.can(staff.PublishNotice)(s.adminNoticePage))
	s.handle("POST /admin/notice", s.can(staff.PublishNotice)(s.adminNoticePost))
	s.handle("GET /api/admin/notice", s.can(staff.PublishNotice)(s.apiAdminNotice))
	s.handle("POST /api/admin/notice", s.can(staff.PublishNotice)(s.apiAdminNoticePublish))

	// Mail outbox.
	s.handle("GET /admin/outbox", s.can(staff.OperateOutbox)(s.outboxPage))
	s.handle("GET /admin/outbox/{id}", s.can(staff.OperateOutbox)(s.outboxMessagePage))
	s.handle("POST /admin/outbox/{id}", s.can(staff.ReadMail)(s.outboxMessagePost))
	s.handle("POST /admin/outbox/{id}/retry", s.can(staff.OperateOutbox)(s.outboxRetryForm))
	s.handle("GET /api/admin/outbox", s.can(staff.OperateOutbox)(s.apiOutboxList))
	s.handle("GET /api/admin/outbox/{id}", s.can(staff.OperateOutbox)(s.apiOutboxGet))
	s.handle("POST /api/admin/outbox/{id}/view", s.can(staff.ReadMail)(s.apiOutboxView))
	s.handle("POST /api/admin/outbox/{id}/retry", s.can(staff.OperateOutbox)(s.apiOutboxRetry))

	// Audit log.
	s.handle("GET /admin/audit", s.can(staff.ReadAuditLog)(s.auditPage))
	s.handle("GET /api/admin/audit/verify", s.can(staff.ReadAuditLog)(s.auditVerify))

	// Accounts: sign-up, sign-in (with the second step), sign-out,
	// e-mailed links and the security settings (internal/web/auth_*.go).
	// Signing up, in and the links are open to anyone; the rest needs a
	// signed-in member.
	s.handle("GET /signup", s.signUpPage)
	s.handle("POST /signup", s.signUpForm)
	s.handle("GET /signin", s.signInPage)
	s.handle("POST /signin", s.signInForm)
	s.handle("GET /signin/code", s.signInCodePage)
	s.handle("POST /signin/code", s.signInCodeForm)
	s.handle("POST /signout", s.signOutForm)
	s.handle("GET /verify-email", s.verifyEmailPage)
	s.handle("POST /verify-email", s.verifyEmailForm)
	s.handle("POST /verify-email/resend", s.member(s.resendVerificationForm))
	s.handle("GET /forgot-password", s.forgotPasswordPage)
	s.handle("POST /forgot-password", s.forgotPasswordForm)
	s.handle("GET /reset-password", s.resetPasswordPage)
	s.handle("POST /reset-password", s.resetPasswordForm)
	s.handle("GET /confirm-email", s.confirmEmailPage)
	s.handle("POST /confirm-email", s.confirmEmailForm)
	s.handle("GET /account/security", s.member(s.securityPage))
	s.handle("POST /account/security/password", s.member(s.securityPasswordForm))
	s.handle("POST /account/security/email", s.member(s.securityEmailForm))
	s.handle("POST /account/security/totp/setup", s.member(s.securityTOTPSetupForm))
	s.handle("POST /account/security/totp/enable", s.member(s.securityTOTPEnableForm))
	s.handle("POST /account/security/totp/disable", s.member(s.securityTOTPDisableForm))
	s.handle("POST /account/security/recovery-codes", s.member(s.securityRecoveryCodesForm))
	s.handle("POST /account/security/sessions/{id}/end", s.member(s.securityEndSessionForm))
	s.handle("POST /account/security/sessions/end-others", s.member(s.securityEndOthersForm))
	s.handle("POST /account/security/tokens", s.member(s.securityTokenForm))
	s.handle("POST /account/security/tokens/{id}/revoke", s.member(s.securityRevokeTokenForm))
	s.handle("POST /api/signup", s.apiSignUp)
	s.handle("GET /api/me", s.member(s.apiMe))
	s.handle("GET /api/tokens", s.member(s.apiListTokens))
	s.handle("POST /api/tokens", s.member(s.apiCreateToken))
	s.handle("DELETE /api/tokens/{id}", s.member(s.apiRevokeToken))

	// Organisations (workspaces), their members, invitations and DPA
	// acceptances. Every route needs a signed-in member; the role checks
	// are in the handlers (internal/web/orgs.go).
	s.handle("GET /orgs", s.member(s.orgsPage))
	s.handle("GET /orgs/new", s.member(s.orgsNewPage))
	s.handle("POST /orgs", s.member(s.orgsCreateForm))
	s.handle("GET /orgs/{id}", s.member(s.orgPage))
	s.handle("POST /orgs/{id}/settings", s.member(s.orgSettingsForm))
	s.handleLimit("POST /orgs/{id}/logo", orgLogoBodyLimit, s.member(s.orgLogoForm))
	s.handle("POST /orgs/{id}/logo/remove", s.member(s.orgLogoRemoveForm))
	s.handle("GET /orgs/{id}/logo", s.member(s.orgLogoPage))
	s.handle("POST /orgs/{id}/invitations", s.member(s.orgInviteForm))
	s.handle("POST /orgs/{id}/invitations/{invID}/revoke", s.member(s.orgRevokeForm))
	s.handle("POST /orgs/{id}/members/{accountID}/role", s.member(s.orgRoleForm))
	s.handle("POST /orgs/{id}/members/{accountID}/remove", s.member(s.orgRemoveForm))
	s.handle("POST /orgs/{id}/leave", s.member(s.orgLeaveForm))
	s.handle("POST /orgs/{id}/dpa", s.member(s.orgDPAForm))
	s.handle("POST /orgs/{id}/delete", s.member(s.orgDeleteForm))
	s.handle("GET /invitations/{token}", s.member(s.invitationPage))
	s.handle("POST /invitations/accept", s.member(s.invitationAcceptForm))
	s.handle("GET /api/orgs", s.member(s.apiOrgsList))
	s.handle("POST /api/orgs", s.member(s.apiOrgsCreate))
	s.handle("GET /api/orgs/{id}", s.member(s.apiOrgGet))
	s.handle("PATCH /api/orgs/{id}", s.member(s.apiOrgPatch))
	s.handle("DELETE /api/orgs/{id}", s.member(s.apiOrgDelete))
	s.handle("GET /api/orgs/{id}/logo", s.member(s.apiOrgLogoGet))
	s.handleLimit("PUT /api/orgs/{id}/logo", orgLogoBodyLimit, s.member(s.apiOrgLogoPut))
	s.handle("DELETE /api/orgs/{id}/logo", s.member(s.apiOrgLogoDelete))
	s.handle("GET /api/orgs/{id}/members", s.member(s.apiOrgMembers))
	s.handle("PATCH /api/orgs/{id}/members/{accountID}", s.member(s.apiOrgMemberPatch))
	s.handle("DELETE /api/orgs/{id}/members/{accountID}", s.member(s.apiOrgMemberDelete))
	s.handle("POST /api/orgs/{id}/leave", s.member(s.apiOrgLeave))
	s.handle("GET /api/orgs/{id}/invitations", s.member(s.apiOrgInvitations))
	s.handle("POST /api/orgs/{id}/invitations", s.member(s.apiOrgInvite))
	s.handle("DELETE /api/orgs/{id}/invitations/{invID}", s.member(s.apiOrgInvitationDelete))
	s.handle("POST /api/invitations/accept", s.member(s.apiInvitationAccept))
	s.handle("GET /api/orgs/{id}/dpa", s.member(s.apiOrgDPA))
	s.handle("POST /api/orgs/{id}/dpa", s.member(s.apiOrgDPAAccept))

	// Member area: the dashboard, the profile and its picture, a parent's
	// or guardian's confirmation of a child account, deactivation and
	// "delete my account" (internal/web/account.go).
	s.handle("GET /account", s.member(s.accountPage))
	s.handle("GET /account/profile", s.member(s.profilePage))
	s.handle("POST /account/profile", s.member(s.profileForm))
	s.handleLimit("POST /account/avatar", avatarFormLimit, s.member(s.avatarForm))
	s.handle("POST /account/avatar/remove", s.member(s.avatarRemoveForm))
	s.handle("GET /account/avatar", s.member(s.avatarGet))
	s.handle("POST /account/guardian", s.member(s.guardianForm))
	s.handle("GET /account/close", s.member(s.closePage))
	s.handle("POST /account/deactivate", s.member(s.deactivateForm))
	s.handle("POST /account/delete", s.member(s.deleteForm))
	s.handle("GET /account/closed", s.closedPage)
	s.handle("GET /guardian/confirm", s.guardianPage)
	s.handle("POST /guardian/confirm", s.throttled(s.guardianConfirm))
	s.handle("GET /api/me/profile", s.member(s.profileGet))
	s.handle("PUT /api/me/profile", s.member(s.profilePut))
	s.handle("GET /api/me/avatar", s.member(s.avatarGet))
	s.handleLimit("PUT /api/me/avatar", avatarMaxBytes, s.member(s.avatarPut))
	s.handle("DELETE /api/me/avatar", s.member(s.avatarDelete))
	s.handle("POST /api/me/guardian", s.member(s.guardianAPI))
	s.handle("POST /api/me/deactivate", s.member(s.deactivateAPI))
	s.handle("POST /api/me/erasure", s.member(s.erasureAPI))

	// Staff console: looking people up (each look at a person's data
	// needs a reason and is written to the access log), staff roles, the
	// one-time setup of the first administrator, and the access log a
	// member reads about themselves (internal/web/staff.go).
	s.handle("GET /admin/people", s.can(staff.LookUpPeople)(s.peoplePage))
	s.handle("GET /admin/people/{id}", s.can(staff.ViewContact)(s.personReasonPage))
	s.handle("POST /admin/people/{id}", s.can(staff.ViewContact)(s.personPost))
	s.handle("GET /api/admin/people", s.can(staff.LookUpPeople)(s.apiPeople))
	s.handle("POST /api/admin/people/{id}/view", s.can(staff.ViewContact)(s.apiPersonView))
	s.handle("GET /admin/staff", s.can(staff.ManageStaff)(s.staffPage))
	s.handle("POST /admin/staff", s.can(staff.ManageStaff)(s.staffGrantForm))
	s.handle("POST /admin/staff/{id}/revoke", s.can(staff.ManageStaff)(s.staffRevokeForm))
	s.handle("GET /api/admin/staff", s.can(staff.ManageStaff)(s.apiStaffList))
	s.handle("POST /api/admin/staff", s.can(staff.ManageStaff)(s.apiStaffGrant))
	s.handle("DELETE /api/admin/staff/{id}/roles/{role}", s.can(staff.ManageStaff)(s.apiStaffRevoke))
	s.handle("GET /setup", s.setupPage)
	s.handle("POST /setup", s.throttled(s.setupPost))
	s.handle("GET /account/access-log", s.member(s.accessLogPage))
	s.handle("GET /api/me/access-log", s.member(s.apiMyAccessLog))

	// Marketing (internal/web/marketing.go): a member's preferences per
	// channel and objections, the same preferences through the signed
	// link of a message without sign-in, the RFC 8058 one-click
	// unsubscribe (open to anyone holding a message's token, without
	// cookies), campaigns for staff who send marketing, and the queue of
	// objections to legitimate-interest processing.
	s.handle("GET /account/marketing", s.member(s.marketingPage))
	s.handle("POST /account/marketing", s.member(s.marketingForm))
	s.handle("POST /account/marketing/objections", s.member(s.marketingObjectForm))
	s.handle("GET /api/me/marketing", s.member(s.apiMarketingGet))
	s.handle("PUT /api/me/marketing", s.member(s.apiMarketingPut))
	s.handle("POST /api/me/objections", s.member(s.apiObjectionPost))
	s.handle("GET /marketing/preferences/{token}", s.marketingLinkPage)
	s.handle("POST /marketing/preferences/{token}", s.marketingLinkForm)
	s.handle("POST /marketing/preferences/{token}/objections", s.marketingLinkObjectForm)
	s.handle("GET /unsubscribe/{token}", s.unsubscribePage)
	s.handle("POST /unsubscribe/{token}", s.throttled(s.unsubscribePost))
	s.handle("GET /admin/campaigns", s.can(staff.SendMarketing)(s.campaignsPage))
	s.handle("POST /admin/campaigns", s.can(staff.SendMarketing)(s.campaignCreateForm))
	s.handle("GET /admin/campaigns/{id}", s.can(staff.SendMarketing)(s.campaignPage))
	s.handle("POST /admin/campaigns/{id}/send", s.can(staff.SendMarketing)(s.campaignSendForm))
	s.handle("GET /admin/objections", s.can(staff.HandleRightsRequests)(s.objectionsPage))
	s.handle("POST /admin/objections/{id}", s.can(staff.HandleRightsRequests)(s.objectionDecideForm))

	// Meetings (internal/web/meetings.go): scheduling with recurrence,
	// participants and their invitations, the agenda and its templates,
	// and shared files and links. Every route needs a signed-in member;
	// what each may do with a meeting is checked in the store, and a
	// meeting they may not see is not found.
	s.handle("GET /meetings", s.member(s.meetingsPage))
	s.handle("GET /meetings/new", s.member(s.meetingsNewPage))
	s.handle("POST /meetings", s.member(s.meetingsCreateForm))
	s.handle("GET /meetings/{id}", s.member(s.meetingPage))
	s.handle("POST /meetings/{id}", s.member(s.meetingEditForm))
	s.handle("POST /meetings/{id}/cancel", s.member(s.meetingCancelForm))
	s.handle("POST /meetings/{id}/delete", s.member(s.meetingDeleteForm))
	s.handle("GET /meetings/{id}/calendar.ics", s.member(s.meetingCalendarPage))
	s.handle("POST /meetings/{id}/participants", s.member(s.meetingInviteForm))
	s.handle("POST /meetings/{id}/participants/{pid}/remove", s.member(s.meetingRemoveForm))
	s.handle("POST /meetings/{id}/agenda", s.member(s.meetingAgendaForm))
	s.handle("POST /meetings/{id}/agenda/{itemID}/delete", s.member(s.meetingAgendaDeleteForm))
	s.handle("POST /meetings/{id}/agenda/{itemID}/move", s.member(s.meetingAgendaMoveForm))
	s.handle("POST /meetings/{id}/agenda/template", s.member(s.meetingTemplateForm))
	s.handle("POST /meetings/{id}/agenda/apply", s.member(s.meetingApplyTemplateForm))
	s.handleLimit("POST /meetings/{id}/resources", meetingUploadLimit, s.member(s.meetingResourceForm))
	s.handle("POST /meetings/{id}/resources/{rid}/delete", s.member(s.meetingResourceDeleteForm))
	s.handle("GET /meetings/{id}/resources/{rid}", s.member(s.meetingFilePage))
	s.handle("GET /api/meetings", s.member(s.apiMeetingsList))
	s.handle("POST /api/meetings", s.member(s.apiMeetingsCreate))
	s.handle("GET /api/meetings/{id}", s.member(s.apiMeetingGet))
	s.handle("PATCH /api/meetings/{id}", s.member(s.apiMeetingPatch))
	s.handle("DELETE /api/meetings/{id}", s.member(s.apiMeetingDelete))
	s.handle("GET /api/meetings/{id}/calendar.ics", s.member(s.apiMeetingCalendar))
	s.handle("GET /api/meetings/{id}/participants", s.member(s.apiParticipants))
	s.handle("POST /api/meetings/{id}/participants", s.member(s.apiParticipantsInvite))
	s.handle("PATCH /api/meetings/{id}/participants/{pid}", s.member(s.apiParticipantPatch))
	s.handle("DELETE /api/meetings/{id}/participants/{pid}", s.member(s.apiParticipantDelete))
	s.handle("GET /api/meetings/{id}/agenda", s.member(s.apiAgenda))
	s.handle("POST /api/meetings/{id}/agenda", s.member(s.apiAgendaAdd))
	s.handle("PATCH /api/meetings/{id}/agenda/{itemID}", s.member(s.apiAgendaPatch))
	s.handle("DELETE /api/meetings/{id}/agenda/{itemID}", s.member(s.apiAgendaDelete))
	s.handle("PUT /api/meetings/{id}/agenda/order", s.member(s.apiAgendaOrder))
	s.handle("POST /api/meetings/{id}/agenda/from-template/{templateID}", s.member(s.apiAgendaFromTemplate))
	s.handle("GET /api/agenda-templates", s.member(s.apiTemplates))
	s.handle("POST /api/agenda-templates", s.member(s.apiTemplateCreate))
	s.handle("GET /api/meetings/{id}/resources", s.member(s.apiResources))
	s.handleLimit("POST /api/meetings/{id}/resources", meetingUploadLimit, s.member(s.apiResourceAdd))
	s.handle("GET /api/meetings/{id}/resources/{rid}", s.member(s.apiResourceGet))
	s.handle("DELETE /api/meetings/{id}/resources/{rid}", s.member(s.apiResourceDelete))

	// Video calls (internal/web/calls.go): the door of a meeting's call
	// for members (signed in; the room page's script writes with the
	// session cookie, same-origin only) and for guests (their personal
	// link's token in the path, open to whoever holds it); what hosts and
	// co-hosts do (lobby, lock, mute, remove, questions answered,
	// attendance; checked in the handlers); the chat; the video server's
	// signed webhooks, which are not held to per-address limits since all
	// come from one server; and the embedded SFU's signalling, proxied on
	// our own origin.
	s.handleLimit("POST /api/meetings/{id}/join", callBodyLimit, s.callMember(s.apiJoin))
	s.handle("GET /api/meetings/{id}/join", s.member(s.pollJoin(s.memberAtDoor)))
	s.handle("GET /api/meetings/{id}/lobby", s.member(s.apiLobby))
	s.handle("POST /api/meetings/{id}/lobby/{pid}/admit", s.callMember(s.apiLobbyAdmit))
	s.handle("POST /api/meetings/{id}/lobby/{pid}/deny", s.callMember(s.apiLobbyDeny))
	s.handle("POST /api/meetings/{id}/lock", s.callMember(s.apiLock))
	s.handle("POST /api/meetings/{id}/unlock", s.callMember(s.apiUnlock))
	s.handle("POST /api/meetings/{id}/participants/{pid}/remove", s.callMember(s.apiRemove))
	s.handle("POST /api/meetings/{id}/participants/{pid}/mute", s.callMember(s.apiMute))
	s.handle("GET /api/meetings/{id}/messages", s.member(s.listMessages(s.memberAtDoor)))
	s.handleLimit("POST /api/meetings/{id}/messages", callBodyLimit, s.callMember(s.postMessage(s.memberAtDoor)))
	s.handle("POST /api/meetings/{id}/messages/{mid}/answered", s.callMember(s.apiAnswered))
	s.handle("GET /api/meetings/{id}/attendance", s.member(s.apiAttendance))
	s.handle("GET /api/meetings/{id}/live", s.member(s.apiLive))
	s.handle("GET /j/{token}", s.guestLandingPage)
	s.handleLimit("POST /j/{token}", callBodyLimit, s.throttled(s.guestLandingForm))
	s.handleLimit("POST /api/join/{token}", callBodyLimit, s.throttled(s.apiGuestJoin))
	s.handle("GET /api/join/{token}", s.pollJoin(s.guestAtDoor))
	s.handle("GET /api/join/{token}/messages", s.listMessages(s.guestAtDoor))
	s.handleLimit("POST /api/join/{token}/messages", callBodyLimit, s.throttled(s.postMessage(s.guestAtDoor)))
	s.handle("POST /api/livekit/webhook", s.livekitWebhook)
	for _, p := range video.SignalPaths {
		s.handle("GET "+p, s.videoSignal)
	}

	// Meeting room (internal/web/room.go): the call page of a meeting the
	// signed-in member takes part in; guests reach the same page through
	// their personal link (GET /j/{token} above).
	s.handle("GET /meetings/{id}/room", s.member(s.roomPage))

	// Data-subject rights (internal/web/rights.go): a member asks for a
	// copy of their data, whole or only what they gave, watches it being
	// built and downloads it through a signed link that works only for
	// them and expires after seven days. Deleting the account is on the
	// account pages; the erasure engine carries it out.
	s.handle("GET /account/privacy", s.member(s.rightsPage))
	s.handle("POST /account/exports", s.member(s.exportForm))
	s.handle("GET /account/exports/{id}/download", s.member(s.exportDownload))
	s.handle("POST /api/me/exports", s.member(s.apiExportPost))
	s.handle("GET /api/me/exports/{id}", s.member(s.apiExportGet))
	// Direct transfer of the portability package to another service's
	// https address, after the member confirms; the address is refused
	// unless it leads to a public service, here and when sent.
	s.handle("POST /account/transfers", s.member(s.transferForm))
	s.handle("GET /account/transfers/{id}", s.member(s.transferPage))
	s.handle("POST /account/transfers/{id}/confirm", s.member(s.transferConfirmForm))

	// Data-subject requests (internal/web/requests.go): a signed-in member
	// files a request carrying one or more rights and follows it; anyone
	// else files one on the public form, opened only once the code
	// e-mailed to them is typed (both rate-limited per address); staff
	// who handle rights requests record those that came by e-mail or
	// post, and work the queue: start, extend with reasons, complete,
	// refuse with reasons, lift a restriction after telling the person.
	s.handle("GET /account/requests", s.member(s.requestsPage))
	s.handle("POST /account/requests", s.member(s.requestsForm))
	s.handle("GET /account/requests/{id}", s.member(s.requestPage))
	s.handle("GET /api/me/requests", s.member(s.apiMyRequests))
	s.handle("POST /api/me/requests", s.member(s.apiMyRequestPost))
	s.handle("GET /api/me/requests/{id}", s.member(s.apiMyRequest))
	s.handle("GET /privacy/request", s.publicRequestPage)
	s.handle("POST /privacy/request", s.throttled(s.publicRequestForm))
	s.handle("GET /privacy/request/{id}/verify", s.publicVerifyPage)
	s.handle("POST /privacy/request/{id}/verify", s.throttled(s.publicVerifyForm))
	s.handle("GET /admin/requests", s.can(staff.HandleRightsRequests)(s.requestsQueuePage))
	s.handle("POST /admin/requests", s.can(staff.HandleRightsRequests)(s.requestsRecordForm))
	s.handle("GET /admin/requests/{id}", s.can(staff.HandleRightsRequests)(s.staffRequestPage))
	s.handle("POST /admin/requests/{id}/{action}", s.can(staff.HandleRightsRequests)(s.staffRequestStepForm))
	s.handle("GET /api/admin/requests", s.can(staff.HandleRightsRequests)(s.apiRequestQueue))
	s.handle("POST /api/admin/requests", s.can(staff.HandleRightsRequests)(s.apiRequestRecord))
	s.handle("GET /api/admin/requests/{id}", s.can(staff.HandleRightsRequests)(s.apiRequestGet))
	s.handle("POST /api/admin/requests/{id}/steps", s.can(staff.HandleRightsRequests)(s.apiRequestStep))

	// Retention (internal/web/retention.go): what a run would remove now,
	// the report of past runs, and legal holds, for the privacy officer.
	s.handle("GET /admin/retention", s.can(staff.ReviewRetention)(s.retentionPage))
	s.handle("GET /admin/retention/runs/{id}", s.can(staff.ReviewRetention)(s.retentionRunPage))
	s.handle("POST /admin/retention/holds", s.can(staff.ManageLegalHolds)(s.holdForm))
	s.handle("POST /admin/retention/holds/{id}/release", s.can(staff.ManageLegalHolds)(s.holdReleaseForm))
	s.handle("GET /api/admin/retention/preview", s.can(staff.ReviewRetention)(s.apiRetentionPreview))
	s.handle("GET /api/admin/retention/runs", s.can(staff.ReviewRetention)(s.apiRetentionRuns))
	s.handle("GET /api/admin/retention/runs/{id}", s.can(staff.ReviewRetention)(s.apiRetentionRun))
	s.handle("GET /api/admin/legal-holds", s.can(staff.ManageLegalHolds)(s.apiHolds))
	s.handle("POST /api/admin/legal-holds", s.can(staff.ManageLegalHolds)(s.apiHoldCreate))
	s.handle("POST /api/admin/legal-holds/{id}/release", s.can(staff.ManageLegalHolds)(s.apiHoldRelease))

	// API description.
	s.handle("GET /api/openapi.json", s.openAPI)
}
