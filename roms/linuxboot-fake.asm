; linuxboot-fake.asm — a fake bzImage for the direct Linux boot tests (test_linuxboot):
; a boot-protocol 2.06 setup header, two setup sectors of real-mode code, and a small
; "protected-mode kernel". The setup code reports on COM1 what the loader gave it (its
; segments, the patched header fields, the command line at cmd_line_ptr, the first
; bytes of the initrd and of the kernel at 1 MiB, copied down with INT 15h AH=87h),
; then writes 0x10 to isa-debug-exit (port 0xf4). The same file runs under QEMU.

bits 16
org 0

COM1 equ 0x3f8

; ---- boot sector (offset 0): only the header fields matter ----
    times 0x1f1 - ($ - $$) db 0
setup_sects: db 2
root_flags:  dw 0
syssize:     dd 0
ram_size:    dw 0
vid_mode:    dw 0
root_dev:    dw 0
boot_flag:   dw 0xaa55

; ---- setup code, entered at (setup segment + 0x20):0 = file offset 0x200 ----
    jmp short main
    db 'HdrS'               ; 0x202
    dw 0x0206               ; 0x206 version
    dd 0                    ; 0x208 realmode_swtch
    dw 0                    ; 0x20c start_sys_seg
    dw 0                    ; 0x20e kernel_version
type_of_loader: db 0        ; 0x210
loadflags:      db 0x01     ; 0x211 LOADED_HIGH
    dw 0                    ; 0x212 setup_move_size
    dd 0x100000             ; 0x214 code32_start
ramdisk_image:  dd 0        ; 0x218
ramdisk_size:   dd 0        ; 0x21c
    dd 0                    ; 0x220 bootsect_kludge
heap_end_ptr:   dw 0        ; 0x224
    db 0, 0                 ; 0x226 ext_loader_ver, ext_loader_type
cmd_line_ptr:   dd 0        ; 0x228
    dd 0x37ffffff           ; 0x22c initrd_addr_max
    dd 0                    ; 0x230 kernel_alignment
    db 0, 0                 ; 0x234 relocatable_kernel, min_alignment
    dw 0                    ; 0x236 xloadflags
    dd 255                  ; 0x238 cmdline_size

main:
    cli
    cld
    mov si, s_begin
    call puts
    mov ax, cs
    call hex16
    mov si, s_ds
    call puts
    mov ax, ds
    call hex16
    mov si, s_loader
    call puts
    mov al, [type_of_loader]
    call hex8
    mov si, s_flags
    call puts
    mov al, [loadflags]
    call hex8
    mov si, s_heap
    call puts
    mov ax, [heap_end_ptr]
    call hex16
    mov si, s_cmdptr
    call puts
    mov eax, [cmd_line_ptr]
    call hex32

    mov si, s_cmdline       ; the command line, through fs
    call puts
    mov eax, [cmd_line_ptr]
    mov bx, ax
    and bx, 15
    shr eax, 4
    mov fs, ax
.cmd:
    mov al, [fs:bx]
    test al, al
    jz .cmd_end
    call putc
    inc bx
    cmp bx, 300             ; longer than allowed: stop
    jb .cmd
.cmd_end:
    mov si, s_rdsize
    call puts
    mov eax, [ramdisk_size]
    call hex32
    mov si, s_rdalign       ; page-aligned, above 1 MiB, inside the first 64 MiB
    call puts
    mov eax, [ramdisk_image]
    mov bl, '1'
    test eax, 0xfff
    jz .al1
    mov bl, '0'
.al1:
    cmp eax, 0x100000
    jae .al2
    mov bl, '0'
.al2:
    add eax, [ramdisk_size]
    cmp eax, 64 << 20
    jbe .al3
    mov bl, '0'
.al3:
    mov al, bl
    call putc
    mov si, s_rddata
    call puts
    mov eax, [ramdisk_image]
    call show16
    mov si, s_kernel
    call puts
    mov eax, 0x100000
    call show16
    mov si, s_end
    call puts
    mov al, 0x10
    out 0xf4, al
.halt:
    hlt
    jmp .halt

; show16: eax = physical address; prints 16 bytes from there (copied below 1 MiB by
; INT 15h AH=87h), non-printable bytes as '.'
show16:
    mov [gdt + 0x12], ax    ; source descriptor base 0..15
    shr eax, 16
    mov [gdt + 0x14], al    ; base 16..23
    mov [gdt + 0x17], ah    ; base 24..31
    mov ax, ds              ; destination: buf
    movzx eax, ax
    shl eax, 4
    add eax, buf
    mov [gdt + 0x1a], ax
    shr eax, 16
    mov [gdt + 0x1c], al
    mov [gdt + 0x1f], ah
    push ds
    pop es
    mov si, gdt
    mov cx, 8               ; words
    mov ah, 0x87
    int 0x15
    mov al, '!'
    jc .fail
    mov si, buf
    mov cx, 16
.byte:
    lodsb
    cmp al, 0x20
    jb .dot
    cmp al, 0x7e
    jbe .ok
.dot:
    mov al, '.'
.ok:
    call putc
    loop .byte
    ret
.fail:
    call putc
    ret

puts:                       ; ds:si, NUL-terminated
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts
.done:
    ret

putc:                       ; al
    push dx
    push ax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop ax
    mov dx, COM1
    out dx, al
    pop dx
    ret

hex32:
    push eax
    shr eax, 16
    call hex16
    pop eax
hex16:
    push ax
    mov al, ah
    call hex8
    pop ax
hex8:
    push ax
    shr al, 4
    call hex4
    pop ax
hex4:
    push ax
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .d
    add al, 'A' - '9' - 1
.d:
    call putc
    pop ax
    ret

s_begin:   db 13, 10, 'LINUXBOOT cs=', 0
s_ds:      db ' ds=', 0
s_loader:  db 13, 10, 'loader=', 0
s_flags:   db ' loadflags=', 0
s_heap:    db ' heap_end=', 0
s_cmdptr:  db ' cmd_line_ptr=', 0
s_cmdline: db 13, 10, 'cmdline=[', 0
s_rdsize:  db ']', 13, 10, 'initrd size=', 0
s_rdalign: db ' placed=', 0
s_rddata:  db ' data=[', 0
s_kernel:  db ']', 13, 10, 'kernel=[', 0
s_end:     db ']', 13, 10, 'END', 13, 10, 0

align 8
gdt:                        ; INT 15h AH=87h: dummy, GDT, source, destination, CS, SS
    dq 0, 0
    dw 0xffff, 0
    db 0, 0x93, 0, 0        ; source
    dw 0xffff, 0
    db 0, 0x93, 0, 0        ; destination
    dq 0, 0
buf: times 16 db 0

    times 0x600 - ($ - $$) db 0

; ---- the "protected-mode kernel" (loaded at 1 MiB) ----
    db 'FAKE-KERNEL@1MiB'
    times 0x800 - ($ - $$) db 0xcc
