/* vfork and dlopen entry stubs: record from a C helper, then jump to the
 * real function with the caller's frame untouched, so that
 *  - a vfork child never returns through a wrapper frame the parent still
 *    needs (the child borrows the parent's stack), and
 *  - dlopen still sees the real caller's return address, which glibc uses to
 *    pick the caller's RPATH/RUNPATH, $ORIGIN and link-map namespace. */
#if defined(__x86_64__)
	.text
	.globl vfork
	.type vfork, @function
vfork:
	sub $8, %rsp
	call probe_vfork_pre
	add $8, %rsp
	jmp *%rax
	.size vfork, .-vfork

	.globl dlopen
	.type dlopen, @function
dlopen:
	push %rdi
	push %rsi
	sub $8, %rsp
	call probe_dlopen_pre
	add $8, %rsp
	pop %rsi
	pop %rdi
	jmp *%rax
	.size dlopen, .-dlopen
#elif defined(__aarch64__)
	.text
	.globl vfork
	.type vfork, %function
vfork:
	stp x29, x30, [sp, #-16]!
	mov x29, sp
	bl probe_vfork_pre
	mov x16, x0
	ldp x29, x30, [sp], #16
	br x16
	.size vfork, .-vfork

	.globl dlopen
	.type dlopen, %function
dlopen:
	stp x29, x30, [sp, #-32]!
	mov x29, sp
	stp x0, x1, [sp, #16]
	bl probe_dlopen_pre
	mov x16, x0
	ldp x0, x1, [sp, #16]
	ldp x29, x30, [sp], #32
	br x16
	.size dlopen, .-dlopen
#endif
	.section .note.GNU-stack, "", %progbits
