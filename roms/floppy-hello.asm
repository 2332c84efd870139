; floppy-hello.asm — a 1.44 MB floppy image for the floppy boot test: the boot sector
; prints "FLOPPY BOOT OK" on COM1, then reads three sectors through INT 13h AH=02h
; (cylinder 0 head 0 sector 2, cylinder 0 head 1 sector 1, cylinder 5 head 0 sector 18)
; and prints the text each begins with and the INT 13h status, then writes 0 to port
; 0xF4 (isa-debug-exit). Build: nasm -f bin -o floppy-hello.img floppy-hello.asm.
; Output is the same under qemu-system-i386 -fda.

bits 16
org 0x7c00

COM1 equ 0x3f8

boot:
    jmp short start
    nop
    times 59 db 0           ; room for a BIOS parameter block (unused)
start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    cld
    mov [drive], dl
    mov si, msg_ok
    call puts
    mov cx, 0x0002          ; cylinder 0, sector 2
    mov dh, 0
    call read_print
    mov cx, 0x0001          ; cylinder 0, sector 1, head 1
    mov dh, 1
    call read_print
    mov cx, 0x0512          ; cylinder 5, sector 18, head 0
    mov dh, 0
    call read_print
    mov si, msg_done
    call puts
    mov al, 0
    out 0xf4, al            ; isa-debug-exit: status 1
    cli
.halt:
    hlt
    jmp .halt

; read one sector (CX, DH as INT 13h wants them) to 0x8000 and print it
read_print:
    mov bx, 0x8000
    mov byte [bx], 0
    mov dl, [drive]
    mov ax, 0x0201
    int 0x13
    mov al, 'E'
    jc .err
    mov al, 'k'
.err:
    call putc
    mov al, ah
    add al, '0'
    call putc
    mov al, ' '
    call putc
    mov si, 0x8000
    call puts
    ret

puts:
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts
.done:
    ret

putc:
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

drive: db 0
msg_ok: db "FLOPPY BOOT OK", 13, 10, 0
msg_done: db "floppy test done", 13, 10, 0

    times 510 - ($ - $$) db 0
    dw 0xaa55

; sector 2 (C0 H0 S2)
    db "sector two: hello from the floppy", 13, 10, 0
    times 18 * 512 - ($ - $$) db 0
; C0 H1 S1
    db "head one, sector one", 13, 10, 0
    times (5 * 2 * 18 + 17) * 512 - ($ - $$) db 0
; C5 H0 S18
    db "cylinder five, sector eighteen", 13, 10, 0
    times 1474560 - ($ - $$) db 0
